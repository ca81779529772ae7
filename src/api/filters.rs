//! Filters: `/api/v2/filters…` (filters, their keywords and statuses) and
//! `/api/v1/filters`, Mastodon's compatibility view of them (one v1 filter
//! per keyword). Rules and matching are in `service::filters`.

use super::{
    auth::Auth,
    convert,
    params::{flexible_bool, one_or_many, Form},
};
use crate::{
    apub::Data,
    context::Context,
    db::filter::{FilterKeyword, FilterStatus},
    error::Error,
    service::filters::{self, FilterEdit, FilterMatch, FullFilter, KeywordEdit},
};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Mastodon's FilterKeyword.
#[derive(Debug, Clone, Serialize)]
pub struct KeywordEntity {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

/// Mastodon's FilterStatus.
#[derive(Debug, Clone, Serialize)]
pub struct StatusEntity {
    pub id: String,
    pub status_id: String,
}

/// Mastodon's Filter (v2).
#[derive(Debug, Clone, Serialize)]
pub struct FilterEntity {
    pub id: String,
    pub title: String,
    pub context: Vec<String>,
    pub expires_at: Option<String>,
    pub filter_action: String,
    pub keywords: Vec<KeywordEntity>,
    pub statuses: Vec<StatusEntity>,
}

/// Mastodon's V1_Filter: one keyword of a filter.
#[derive(Debug, Clone, Serialize)]
pub struct V1FilterEntity {
    pub id: String,
    pub phrase: String,
    pub context: Vec<String>,
    pub whole_word: bool,
    pub expires_at: Option<String>,
    pub irreversible: bool,
}

pub fn keyword_entity(k: &FilterKeyword) -> KeywordEntity {
    KeywordEntity {
        id: k.id.clone(),
        keyword: k.keyword.clone(),
        whole_word: k.whole_word,
    }
}

pub fn status_entity(s: &FilterStatus) -> StatusEntity {
    StatusEntity {
        id: s.id.clone(),
        status_id: s.post_id.clone(),
    }
}

pub fn filter_entity(f: &FullFilter) -> FilterEntity {
    FilterEntity {
        id: f.filter.id.clone(),
        title: f.filter.title.clone(),
        context: f.contexts().into_iter().map(String::from).collect(),
        expires_at: f.filter.expires_at.map(convert::timestamp),
        filter_action: f.filter.filter_action.clone(),
        keywords: f.keywords.iter().map(keyword_entity).collect(),
        statuses: f.statuses.iter().map(status_entity).collect(),
    }
}

/// Mastodon's FilterResult, as a status's `filtered` holds it.
pub fn result_value(m: &FilterMatch<'_>) -> serde_json::Value {
    serde_json::json!({
        "filter": filter_entity(m.filter),
        "keyword_matches": (!m.keyword_matches.is_empty()).then_some(&m.keyword_matches),
        "status_matches": (!m.status_matches.is_empty()).then_some(&m.status_matches),
    })
}

fn v1_entity(f: &FullFilter, k: &FilterKeyword) -> V1FilterEntity {
    V1FilterEntity {
        id: k.id.clone(),
        phrase: k.keyword.clone(),
        context: f.contexts().into_iter().map(String::from).collect(),
        whole_word: k.whole_word,
        expires_at: f.filter.expires_at.map(convert::timestamp),
        irreversible: f.hides(),
    }
}

/// `expires_in` when given: a number of seconds, or empty / null for
/// never (`Some(None)`). Absent stays `None` through `#[serde(default)]`.
fn expires_in<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Float(f64),
        Str(String),
    }
    Ok(Some(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::Int(i)) => Some(i),
        Some(Raw::Float(f)) => Some(f as i64),
        Some(Raw::Str(s)) if s.trim().is_empty() => None,
        Some(Raw::Str(s)) => Some(s.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("expires_in: expected seconds, got `{s}`"))
        })?),
    }))
}

/// An id given as a string or a number.
fn flexible_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Str(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => None,
        Some(Raw::Int(i)) => Some(i.to_string()),
        Some(Raw::Str(s)) if s.is_empty() => None,
        Some(Raw::Str(s)) => Some(s),
    })
}

#[derive(Deserialize)]
struct KeywordParam {
    #[serde(default, deserialize_with = "flexible_id")]
    id: Option<String>,
    keyword: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    whole_word: Option<bool>,
    #[serde(default, rename = "_destroy", deserialize_with = "flexible_bool")]
    destroy: Option<bool>,
}

/// `keywords_attributes` as a JSON array or `keywords_attributes[0][…]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum KeywordsParam {
    List(Vec<KeywordParam>),
    Indexed(BTreeMap<String, KeywordParam>),
}

#[derive(Deserialize)]
struct FilterParams {
    title: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    context: Vec<String>,
    filter_action: Option<String>,
    #[serde(default, deserialize_with = "expires_in")]
    expires_in: Option<Option<i64>>,
    keywords_attributes: Option<KeywordsParam>,
}

impl FilterParams {
    fn edit(self, updating: bool) -> FilterEdit {
        let keywords = self.keywords_attributes.map(|k| {
            let list: Vec<KeywordParam> = match k {
                KeywordsParam::List(l) => l,
                KeywordsParam::Indexed(m) => {
                    let mut entries: Vec<(String, KeywordParam)> = m.into_iter().collect();
                    entries.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
                    entries.into_iter().map(|(_, v)| v).collect()
                }
            };
            list.into_iter()
                .map(|k| KeywordEdit {
                    id: k.id,
                    keyword: k.keyword,
                    whole_word: k.whole_word,
                    destroy: k.destroy.unwrap_or(false),
                })
                .collect()
        });
        FilterEdit {
            title: self.title,
            // An update without `context` keeps it; a create without one
            // is refused by the service.
            context: (!updating || !self.context.is_empty()).then_some(self.context),
            filter_action: self.filter_action,
            expires_in: self.expires_in,
            keywords,
        }
    }
}

type Id = web::Path<String>;

/// `GET /api/v2/filters`
async fn list(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    let all = filters::list(&data, me).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(filter_entity).collect::<Vec<_>>()))
}

/// `GET /api/v2/filters/:id`
async fn show(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    Ok(HttpResponse::Ok().json(filter_entity(&filters::get(&data, me, &id).await?)))
}

/// `POST /api/v2/filters`
async fn create(
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<FilterParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let created = filters::create(&data, me, p.edit(false)).await?;
    Ok(HttpResponse::Ok().json(filter_entity(&created)))
}

/// `PUT /api/v2/filters/:id`
async fn update(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<FilterParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let updated = filters::update(&data, me, &id, p.edit(true)).await?;
    Ok(HttpResponse::Ok().json(filter_entity(&updated)))
}

/// `DELETE /api/v2/filters/:id`
async fn destroy(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    filters::delete(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

#[derive(Deserialize)]
struct KeywordParams {
    keyword: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    whole_word: Option<bool>,
}

/// `GET /api/v2/filters/:id/keywords`
async fn keywords(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    let list = filters::keywords(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(keyword_entity).collect::<Vec<_>>()))
}

/// `POST /api/v2/filters/:id/keywords`
async fn add_keyword(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<KeywordParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let k = filters::add_keyword(
        &data,
        me,
        &id,
        p.keyword.as_deref().unwrap_or(""),
        p.whole_word,
    )
    .await?;
    Ok(HttpResponse::Ok().json(keyword_entity(&k)))
}

/// `GET /api/v2/filters/keywords/:id`
async fn show_keyword(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    Ok(HttpResponse::Ok().json(keyword_entity(&filters::keyword(&data, me, &id).await?)))
}

/// `PUT /api/v2/filters/keywords/:id`
async fn update_keyword(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<KeywordParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let k = filters::update_keyword(&data, me, &id, p.keyword.as_deref(), p.whole_word).await?;
    Ok(HttpResponse::Ok().json(keyword_entity(&k)))
}

/// `DELETE /api/v2/filters/keywords/:id`
async fn delete_keyword(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    filters::delete_keyword(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

#[derive(Deserialize)]
struct StatusParams {
    #[serde(default, deserialize_with = "flexible_id")]
    status_id: Option<String>,
}

/// `GET /api/v2/filters/:id/statuses`
async fn statuses(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    let list = filters::statuses(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(status_entity).collect::<Vec<_>>()))
}

/// `POST /api/v2/filters/:id/statuses`
async fn add_status(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<StatusParams>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let Some(status_id) = p.status_id else {
        return Err(Error::unprocessable(
            "Validation failed: Status can't be blank",
        ));
    };
    let s = filters::add_status(&data, me, &id, &status_id).await?;
    Ok(HttpResponse::Ok().json(status_entity(&s)))
}

/// `GET /api/v2/filters/statuses/:id`
async fn show_status(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    Ok(HttpResponse::Ok().json(status_entity(&filters::status(&data, me, &id).await?)))
}

/// `DELETE /api/v2/filters/statuses/:id`
async fn delete_status(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    filters::delete_status(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

// v1: one filter per keyword.

#[derive(Deserialize)]
struct V1Params {
    phrase: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    context: Vec<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    irreversible: Option<bool>,
    #[serde(default, deserialize_with = "flexible_bool")]
    whole_word: Option<bool>,
    #[serde(default, deserialize_with = "expires_in")]
    expires_in: Option<Option<i64>>,
}

fn action_of(irreversible: Option<bool>) -> Option<String> {
    irreversible.map(|i| if i { "hide" } else { "warn" }.to_string())
}

/// `GET /api/v1/filters`: every keyword of every filter.
async fn v1_list(data: Data<Context>, auth: Auth) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    let all = filters::list(&data, me).await?;
    let out: Vec<V1FilterEntity> = all
        .iter()
        .flat_map(|f| f.keywords.iter().map(move |k| v1_entity(f, k)))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// The filter of a v1 filter's id (a keyword's id) with that keyword.
async fn v1_find(
    data: &Data<Context>,
    me: &crate::db::actor::Actor,
    id: &str,
) -> Result<(FullFilter, FilterKeyword), Error> {
    let keyword = filters::keyword(data, me, id).await?;
    let filter = filters::get(data, me, &keyword.filter_id).await?;
    Ok((filter, keyword))
}

/// `GET /api/v1/filters/:id`
async fn v1_show(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("read:filters")?;
    let (f, k) = v1_find(&data, me, &id).await?;
    Ok(HttpResponse::Ok().json(v1_entity(&f, &k)))
}

/// `POST /api/v1/filters`: a filter titled by its phrase, with it as its
/// one keyword.
async fn v1_create(
    data: Data<Context>,
    auth: Auth,
    Form(p): Form<V1Params>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let phrase = filters::check_keyword(p.phrase.as_deref().unwrap_or(""))?;
    let created = filters::create(
        &data,
        me,
        FilterEdit {
            title: Some(phrase.clone()),
            context: Some(p.context),
            filter_action: action_of(p.irreversible).or(Some("warn".into())),
            expires_in: p.expires_in,
            keywords: Some(vec![KeywordEdit {
                keyword: Some(phrase),
                whole_word: p.whole_word,
                ..KeywordEdit::default()
            }]),
        },
    )
    .await?;
    let Some(k) = created.keywords.first() else {
        return Err(Error::internal(anyhow::anyhow!(
            "created filter has no keyword"
        )));
    };
    Ok(HttpResponse::Ok().json(v1_entity(&created, k)))
}

/// `PUT /api/v1/filters/:id`: the keyword's phrase and whole-word flag,
/// and its filter's contexts, action and expiry.
async fn v1_update(
    data: Data<Context>,
    auth: Auth,
    id: Id,
    Form(p): Form<V1Params>,
) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let (f, k) = v1_find(&data, me, &id).await?;
    let updated = filters::update(
        &data,
        me,
        &f.filter.id,
        FilterEdit {
            title: None,
            context: (!p.context.is_empty()).then_some(p.context),
            filter_action: action_of(p.irreversible),
            expires_in: p.expires_in,
            keywords: Some(vec![KeywordEdit {
                id: Some(k.id.clone()),
                keyword: p.phrase,
                whole_word: p.whole_word,
                destroy: false,
            }]),
        },
    )
    .await?;
    let Some(k) = updated.keywords.iter().find(|u| u.id == k.id) else {
        return Err(Error::not_found("Record not found"));
    };
    Ok(HttpResponse::Ok().json(v1_entity(&updated, k)))
}

/// `DELETE /api/v1/filters/:id`: the keyword; its filter too when it was
/// the filter's only rule (as Mastodon).
async fn v1_destroy(data: Data<Context>, auth: Auth, id: Id) -> Result<HttpResponse, Error> {
    let me = auth.user("write:filters")?;
    let (f, k) = v1_find(&data, me, &id).await?;
    if f.keywords.len() <= 1 && f.statuses.is_empty() {
        filters::delete(&data, me, &f.filter.id).await?;
    } else {
        filters::delete_keyword(&data, me, &k.id).await?;
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v2/filters", web::get().to(list))
        .route("/api/v2/filters", web::post().to(create))
        .route("/api/v2/filters/keywords/{id}", web::get().to(show_keyword))
        .route(
            "/api/v2/filters/keywords/{id}",
            web::put().to(update_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            web::delete().to(delete_keyword),
        )
        .route("/api/v2/filters/statuses/{id}", web::get().to(show_status))
        .route(
            "/api/v2/filters/statuses/{id}",
            web::delete().to(delete_status),
        )
        .route("/api/v2/filters/{id}/keywords", web::get().to(keywords))
        .route("/api/v2/filters/{id}/keywords", web::post().to(add_keyword))
        .route("/api/v2/filters/{id}/statuses", web::get().to(statuses))
        .route("/api/v2/filters/{id}/statuses", web::post().to(add_status))
        .route("/api/v2/filters/{id}", web::get().to(show))
        .route("/api/v2/filters/{id}", web::put().to(update))
        .route("/api/v2/filters/{id}", web::delete().to(destroy))
        .route("/api/v1/filters", web::get().to(v1_list))
        .route("/api/v1/filters", web::post().to(v1_create))
        .route("/api/v1/filters/{id}", web::get().to(v1_show))
        .route("/api/v1/filters/{id}", web::put().to(v1_update))
        .route("/api/v1/filters/{id}", web::delete().to(v1_destroy));
}
