//! `GET /c/NAME/stats`: a local community's aggregate figures for its
//! moderators and the instance's admins (issue 13 §5); others get the
//! 403 page. The figures and who may see them are
//! `service::community_stats`'s, as for the client API.

use super::{
    layout::{render, sign_in_first, Layout, WebError},
    session::Viewer,
};
use crate::{
    apub::Data,
    context::Context,
    service::{self, community_stats::CommunityStats},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "community_stats.html", config = "src/web/askama.toml")]
struct StatsPage {
    layout: Layout,
    name: String,
    stats: CommunityStats,
    /// The median as words ("3 h 20 min"), or `None` without answers.
    median: Option<String>,
}

/// A duration for people: hours and minutes, days past two days.
fn human(seconds: i64) -> String {
    let minutes = seconds / 60;
    match minutes {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// `GET /c/{name}/stats`
async fn stats(
    data: Data<Context>,
    viewer: Viewer,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let name = name.into_inner();
    let Some(me) = viewer.signed_in() else {
        return sign_in_first(&format!("/c/{name}/stats"));
    };
    let (group, _) = service::communities::local(&data.db, &name).await?;
    let stats = service::community_stats::of_community(&data.db, &group, &me.actor).await?;
    let layout = Layout::new(&data, &viewer, "Community figures")
        .await?
        .nav("communities");
    let page = StatsPage {
        layout,
        median: stats.median_first_answer_seconds.map(human),
        name,
        stats,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/c/{name}/stats", web::get().to(stats));
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_words() {
        assert_eq!(super::human(90), "1 min");
        assert_eq!(super::human(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(super::human(5 * 24 * 3600), "5 days");
    }
}
