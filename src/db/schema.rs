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
        hide_network -> Bool,
        icon_url -> Nullable<Text>,
        fields_json -> Nullable<Text>,
        image_url -> Nullable<Text>,
    }
}

diesel::table! {
    local_users (actor_id) {
        actor_id -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        approved -> Bool,
        suspended_at -> Nullable<Timestamp>,
        default_visibility -> Text,
        registration_reason -> Nullable<Text>,
    }
}

diesel::table! {
    outbound_activities (id) {
        id -> Text,
        ap_id -> Text,
        sender_actor_id -> Text,
        json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        activity_id -> Text,
        inbox_url -> Text,
        host -> Text,
        state -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        claim_token -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_status -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    delivery_hosts (host) {
        host -> Text,
        failing_since -> Nullable<Timestamp>,
        unreachable_since -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        last_failure_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(local_users -> actors (actor_id));

diesel::table! {
    received_activities (ap_id) {
        ap_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    follows (id) {
        id -> Text,
        ap_id -> Text,
        follower_id -> Text,
        followee_id -> Text,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    posts (id) {
        id -> Text,
        ap_id -> Text,
        author_id -> Text,
        kind -> Text,
        visibility -> Text,
        title -> Nullable<Text>,
        content -> Text,
        source -> Nullable<Text>,
        summary -> Nullable<Text>,
        sensitive -> Bool,
        language -> Nullable<Text>,
        in_reply_to -> Nullable<Text>,
        thread -> Nullable<Text>,
        url -> Nullable<Text>,
        to_json -> Text,
        cc_json -> Text,
        local -> Bool,
        published -> Timestamp,
        updated -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        community_id -> Nullable<Text>,
        search_text -> Nullable<Text>,
        /// doing, learned, stuck or ask (migration 2026-12-04-000060_narration_kinds).
        narration_kind -> Nullable<Text>,
    }
}

diesel::table! {
    post_tags (post_id, kind, href) {
        post_id -> Text,
        kind -> Text,
        name -> Text,
        href -> Text,
    }
}

diesel::table! {
    reactions (id) {
        id -> Text,
        ap_id -> Text,
        kind -> Text,
        actor_id -> Text,
        post_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    domain_policies (domain) {
        domain -> Text,
        action -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    communities (actor_id) {
        actor_id -> Text,
        owner_id -> Text,
        posting -> Text,
        members_only -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    community_moderators (community_id, actor_id) {
        community_id -> Text,
        actor_id -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    community_bans (community_id, actor_id) {
        community_id -> Text,
        actor_id -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    community_pins (community_id, post_id) {
        community_id -> Text,
        post_id -> Text,
        pinned_at -> Timestamp,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> Text,
        community_id -> Text,
        moderator_id -> Text,
        action -> Text,
        target -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    host_software (domain) {
        domain -> Text,
        software -> Text,
        fetched_at -> Timestamp,
    }
}

diesel::table! {
    oauth_apps (id) {
        id -> Text,
        client_id -> Text,
        client_secret_hash -> Text,
        name -> Text,
        website -> Nullable<Text>,
        redirect_uris -> Text,
        scopes -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Text,
        app_id -> Text,
        actor_id -> Text,
        redirect_uri -> Text,
        scopes -> Text,
        code_challenge -> Nullable<Text>,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_tokens (id) {
        id -> Text,
        token_hash -> Text,
        refresh_hash -> Nullable<Text>,
        app_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        scopes -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        code_hash -> Nullable<Text>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        recipient_id -> Text,
        kind -> Text,
        actor_id -> Text,
        post_id -> Nullable<Text>,
        created_at -> Timestamp,
        report_id -> Nullable<Text>,
        group_id -> Nullable<Text>,
        // Added by 2026-12-04-000040_small_extras.
        filtered -> Bool,
    }
}

diesel::table! {
    account_marks (id) {
        id -> Text,
        actor_id -> Text,
        kind -> Text,
        target_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    markers (actor_id, timeline) {
        actor_id -> Text,
        timeline -> Text,
        last_read_id -> Text,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (actor_id, key) {
        actor_id -> Text,
        key -> Text,
        post_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    post_edits (id) {
        id -> Text,
        post_id -> Text,
        title -> Nullable<Text>,
        content -> Text,
        summary -> Nullable<Text>,
        sensitive -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    actor_stats (actor_id) {
        actor_id -> Text,
        statuses_count -> BigInt,
        followers_count -> BigInt,
        following_count -> BigInt,
        last_status_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        ap_id -> Nullable<Text>,
        reporter_id -> Text,
        target_id -> Text,
        community_id -> Nullable<Text>,
        comment -> Text,
        category -> Text,
        forwarded -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
    }
}

diesel::table! {
    report_posts (report_id, post_id) {
        report_id -> Text,
        post_id -> Text,
    }
}

diesel::joinable!(posts -> actors (author_id));
diesel::joinable!(post_tags -> posts (post_id));
diesel::joinable!(reactions -> posts (post_id));

diesel::joinable!(outbound_activities -> actors (sender_actor_id));
diesel::joinable!(deliveries -> outbound_activities (activity_id));
diesel::table! {
    web_sessions (id) {
        id -> Text,
        token_hash -> Text,
        actor_id -> Text,
        csrf_token -> Text,
        user_agent -> Text,
        ip -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::joinable!(web_sessions -> actors (actor_id));

diesel::table! {
    invites (id) {
        id -> Text,
        code -> Text,
        created_by -> Text,
        max_uses -> Nullable<BigInt>,
        uses -> BigInt,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        community_id -> Nullable<Text>,
    }
}

diesel::joinable!(invites -> actors (created_by));

diesel::table! {
    instance_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    media_attachments (id) {
        id -> Text,
        owner_id -> Text,
        post_id -> Nullable<Text>,
        position -> BigInt,
        kind -> Text,
        media_type -> Text,
        file_key -> Nullable<Text>,
        thumbnail_key -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        description -> Nullable<Text>,
        focus_x -> Nullable<Double>,
        focus_y -> Nullable<Double>,
        width -> Nullable<BigInt>,
        height -> Nullable<BigInt>,
        thumbnail_width -> Nullable<BigInt>,
        thumbnail_height -> Nullable<BigInt>,
        blurhash -> Nullable<Text>,
        size_bytes -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(media_attachments -> posts (post_id));

diesel::allow_tables_to_appear_in_same_query!(
    actors,
    local_users,
    received_activities,
    follows,
    posts,
    post_tags,
    reactions,
    domain_policies,
    outbound_activities,
    deliveries,
    delivery_hosts,
    communities,
    community_moderators,
    community_bans,
    community_pins,
    moderation_log,
    host_software,
    oauth_apps,
    oauth_codes,
    oauth_tokens,
    web_sessions,
    invites,
    instance_settings,
    notifications,
    account_marks,
    markers,
    idempotency_keys,
    post_edits,
    actor_stats,
    reports,
    report_posts,
    media_attachments,
);

// Filters (v2), their keywords and statuses (migration
// 2026-12-04-000020_filters).
diesel::table! {
    filters (id) {
        id -> Text,
        account_id -> Text,
        title -> Text,
        context -> Text,
        filter_action -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    filter_keywords (id) {
        id -> Text,
        filter_id -> Text,
        keyword -> Text,
        whole_word -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    filter_statuses (id) {
        id -> Text,
        filter_id -> Text,
        post_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(filter_keywords -> filters (filter_id));
diesel::joinable!(filter_statuses -> filters (filter_id));

diesel::allow_tables_to_appear_in_same_query!(filters, filter_keywords, filter_statuses,);

// Followed hashtags and lists with their members (migration
// 2026-12-04-000050_lists_tags).
diesel::table! {
    followed_tags (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lists (id) {
        id -> Text,
        account_id -> Text,
        title -> Text,
        replies_policy -> Text,
        exclusive -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    list_members (id) {
        id -> Text,
        list_id -> Text,
        follow_id -> Nullable<Text>,
        account_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(list_members -> lists (list_id));

diesel::allow_tables_to_appear_in_same_query!(followed_tags, lists, list_members);
diesel::allow_tables_to_appear_in_same_query!(followed_tags, posts);
diesel::allow_tables_to_appear_in_same_query!(followed_tags, post_tags);
diesel::allow_tables_to_appear_in_same_query!(followed_tags, actors);
diesel::allow_tables_to_appear_in_same_query!(lists, posts);
diesel::allow_tables_to_appear_in_same_query!(lists, actors);
diesel::allow_tables_to_appear_in_same_query!(lists, follows);
diesel::allow_tables_to_appear_in_same_query!(lists, reactions);
diesel::allow_tables_to_appear_in_same_query!(list_members, posts);
diesel::allow_tables_to_appear_in_same_query!(list_members, actors);
diesel::allow_tables_to_appear_in_same_query!(list_members, follows);
diesel::allow_tables_to_appear_in_same_query!(list_members, reactions);

// Web Push subscriptions and their durable delivery queue (migration
// 2026-12-04-000030_push).
diesel::table! {
    push_subscriptions (id) {
        id -> Text,
        token_id -> Text,
        account_id -> Text,
        endpoint -> Text,
        p256dh -> Text,
        auth -> Text,
        standard -> Bool,
        alerts -> Text,
        policy -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    push_deliveries (subscription_id, notification_id) {
        subscription_id -> Text,
        notification_id -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        claim_token -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(push_deliveries -> push_subscriptions (subscription_id));

diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, push_deliveries);
diesel::allow_tables_to_appear_in_same_query!(push_deliveries, notifications);
diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, oauth_tokens);
diesel::allow_tables_to_appear_in_same_query!(push_subscriptions, follows);

// Follow suggestions dismissed, notification policies and the senders
// accepted past them (migration 2026-12-04-000040_small_extras, which also
// adds `notifications.filtered`).
diesel::table! {
    suggestion_dismissals (account_id, target_id) {
        account_id -> Text,
        target_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notification_policies (account_id) {
        account_id -> Text,
        for_not_following -> Text,
        for_not_followers -> Text,
        for_new_accounts -> Text,
        for_private_mentions -> Text,
        for_limited_accounts -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notification_permissions (account_id, from_account_id) {
        account_id -> Text,
        from_account_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(suggestion_dismissals, actors);

// Questions with accepted answers (migration 2026-12-04-000070_answers).
diesel::table! {
    accepted_answers (question_id) {
        question_id -> Text,
        answer_id -> Text,
        accepted_by -> Nullable<Text>,
        accepted_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(accepted_answers, posts);
diesel::allow_tables_to_appear_in_same_query!(accepted_answers, actors);
diesel::allow_tables_to_appear_in_same_query!(accepted_answers, post_tags);
diesel::allow_tables_to_appear_in_same_query!(accepted_answers, communities);

// Weekly digests (migration 2026-12-04-000080_digests).
diesel::table! {
    digest_settings (actor_id) {
        actor_id -> Text,
        email -> Nullable<Text>,
        digest_email -> Bool,
        feed_token -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    digests_sent (person_id, week) {
        person_id -> Text,
        week -> Text,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        claimed_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(digest_settings -> actors (actor_id));
diesel::allow_tables_to_appear_in_same_query!(digest_settings, actors);
diesel::allow_tables_to_appear_in_same_query!(digest_settings, local_users);

// Partner instances (migration 2026-12-04-000090_partners).
diesel::table! {
    partner_instances (host) {
        host -> Text,
        added_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(partner_instances, actors);
diesel::allow_tables_to_appear_in_same_query!(partner_instances, posts);

// OpenID Connect sign-in (migration 2026-12-10-000200_oidc_sign_in).
diesel::table! {
    oidc_logins (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        return_to -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oidc_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        actor_id -> Text,
        refresh_token -> Nullable<Text>,
        created_at -> Timestamp,
        last_sign_in_at -> Timestamp,
    }
}

diesel::joinable!(oidc_identities -> actors (actor_id));
diesel::allow_tables_to_appear_in_same_query!(oidc_identities, actors);
diesel::allow_tables_to_appear_in_same_query!(oidc_identities, local_users);

// Narrations imported from archives (migration 2026-12-10-000100_portability_imported_posts).
diesel::table! {
    imported_posts (actor_id, original_id) {
        actor_id -> Text,
        original_id -> Text,
        post_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(imported_posts -> posts (post_id));
diesel::allow_tables_to_appear_in_same_query!(imported_posts, posts);

// Account migration: aliases and moves (migration 2026-12-10-000300_moves).
diesel::table! {
    actor_aliases (actor_id, alias_ap_id) {
        actor_id -> Text,
        alias_ap_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    actor_moves (actor_id) {
        actor_id -> Text,
        target_ap_id -> Text,
        moved_at -> Timestamp,
    }
}

diesel::joinable!(actor_aliases -> actors (actor_id));
diesel::joinable!(actor_moves -> actors (actor_id));
diesel::allow_tables_to_appear_in_same_query!(actor_aliases, actors);
diesel::allow_tables_to_appear_in_same_query!(actor_moves, actors);
diesel::allow_tables_to_appear_in_same_query!(actor_moves, follows);
