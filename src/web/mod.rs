//! HTML pages for people with browsers. Handlers call `service` and render
//! askama templates from `src/web/templates/`; errors render as HTML.

pub mod pages;

use actix_web::web;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home))
        .route("/@{name}", web::get().to(pages::profile))
        .route("/c/{name}", web::get().to(pages::profile))
        .route("/@{name}/{id}", web::get().to(pages::post));
}
