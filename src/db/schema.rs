//! Table definitions, written by hand: `diesel print-schema` gives different
//! types per backend, and `MultiConnection` supports only the portable ones
//! (TEXT, BOOLEAN, BIGINT, TIMESTAMP as UTC).

diesel::table! {
    actors (id) {
        id -> Text,
        ap_id -> Text,
        kind -> Text,
        username -> Text,
        domain -> Text,
        local -> Bool,
        display_name -> Nullable<Text>,
        summary -> Nullable<Text>,
        summary_source -> Nullable<Text>,
        url -> Nullable<Text>,
        inbox_url -> Text,
        shared_inbox_url -> Nullable<Text>,
        outbox_url -> Nullable<Text>,
        followers_url -> Nullable<Text>,
        following_url -> Nullable<Text>,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        manually_approves_followers -> Bool,
        discoverable -> Bool,
        published -> Timestamp,
        updated -> Nullable<Timestamp>,
        last_fetched_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    local_users (actor_id) {
        actor_id -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(local_users -> actors (actor_id));
diesel::allow_tables_to_appear_in_same_query!(actors, local_users);
