//! The browser helper itself, against a real instance: pages load, the
//! console is watched, forms can be filled and clicks wait for the page they
//! lead to.

use crate::browser::Browser;
use crate::harness::{both_backends, TestInstance};
use outloud::config::Backend;
use std::time::{Duration, Instant};

both_backends!(browser_sees_home);

/// Console errors until one contains `needle`, or all of them after 10 s.
async fn console_errors_until(browser: &Browser, needle: &str) -> Vec<String> {
    let started = Instant::now();
    let mut errors = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        errors.extend(browser.console_errors().await);
        if errors.iter().any(|e| e.contains(needle)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    errors
}

/// The console errors since the last check, less the 404 of
/// `/favicon.ico`: the placeholder pages have no favicon yet (a missing one
/// fails `Browser::visit`, as it should for the real pages), and this test is
/// about the helper, not about them.
async fn console_errors_but_favicon(browser: &Browser) -> Vec<String> {
    let mut errors = browser.console_errors().await;
    errors.retain(|e| !(e.contains("/favicon.ico") && e.contains("404")));
    errors
}

async fn browser_sees_home(backend: Backend) {
    let alpha = TestInstance::spawn_with("alpha", backend, |config| {
        config.instance.name = "Guild of Smoke Testers".into();
    })
    .await;
    let label = format!("browser_sees_home-{backend:?}").to_lowercase();
    let Some(browser) = Browser::start(&label).await else {
        return;
    };

    // The home page loads without a console error, under its own name
    // (this is `visit` but for the favicon, see above).
    browser.goto(&alpha.url("/")).await;
    browser.screenshot("home").await;
    let errors = console_errors_but_favicon(&browser).await;
    assert!(
        errors.is_empty(),
        "console errors on the home page: {errors:?}"
    );
    assert!(
        browser.title().await.contains("Guild of Smoke Testers"),
        "title: {}",
        browser.title().await
    );
    assert_eq!(browser.text("h1").await, "Guild of Smoke Testers");
    assert!(browser.exists("main").await);
    assert!(!browser.exists("#no-such-thing").await);
    assert_eq!(browser.texts("header a").await, ["Guild of Smoke Testers"]);
    assert!(browser
        .source()
        .await
        .contains("<h1>Guild of Smoke Testers</h1>"));

    // Console errors are caught: script errors, console.error, failed loads.
    browser
        .driver()
        .execute(r#"console.error("smoke: console.error reached");"#, vec![])
        .await
        .unwrap();
    let errors = console_errors_until(&browser, "smoke: console.error reached").await;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("smoke: console.error reached")),
        "console.error not reported: {errors:?}"
    );
    browser
        .driver()
        .execute(
            r#"setTimeout(() => { throw new Error("smoke: uncaught"); }, 0);
               const img = document.createElement("img");
               img.src = "/smoke-missing.png";
               document.body.append(img);"#,
            vec![],
        )
        .await
        .unwrap();
    let errors = console_errors_until(&browser, "smoke-missing.png").await;
    let errors = if errors.iter().any(|e| e.contains("smoke: uncaught")) {
        errors
    } else {
        [
            errors,
            console_errors_until(&browser, "smoke: uncaught").await,
        ]
        .concat()
    };
    assert!(
        errors.iter().any(|e| e.contains("smoke: uncaught")),
        "uncaught error not reported: {errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("smoke-missing.png") && e.contains("404")),
        "failed image load not reported: {errors:?}"
    );
    // Reading drains: nothing new since.
    let errors = console_errors_but_favicon(&browser).await;
    assert!(errors.is_empty(), "reported twice: {errors:?}");

    // A click that navigates waits for the new page; one that does not
    // returns on the same page.
    browser.click("header a").await;
    assert_eq!(browser.current_url().await, alpha.url("/"));
    assert_eq!(browser.text("h1").await, "Guild of Smoke Testers");
    browser.click("h1").await;
    assert_eq!(browser.current_url().await, alpha.url("/"));

    // Forms: fill, select, and a submission that leads to the instance.
    let form = format!(
        "data:text/html;charset=utf-8,<!DOCTYPE html><title>form</title>\
         <form action=\"{}\" method=\"get\">\
         <input name=\"q\" value=\"old\"><textarea name=\"t\"></textarea>\
         <select name=\"s\"><option value=\"a\">A</option><option value=\"b\">B</option></select>\
         <button type=\"submit\">Go</button></form>",
        alpha.url("/")
    );
    browser.goto(&form).await;
    browser.fill("input[name=q]", "smoke words").await;
    browser.fill("textarea", "two\nlines").await;
    browser.select("select", "b").await;
    browser.screenshot("form").await;
    browser.click("button[type=submit]").await;
    let url = browser.current_url().await;
    assert!(
        url.starts_with(&alpha.url("/?")) && url.contains("q=smoke+words") && url.contains("s=b"),
        "form went to {url}"
    );
    assert!(url.contains("t=two%0D%0Alines"), "textarea in {url}");
    assert_eq!(browser.text("h1").await, "Guild of Smoke Testers");
    let errors = console_errors_but_favicon(&browser).await;
    assert!(
        errors.is_empty(),
        "console errors after the form: {errors:?}"
    );

    browser.close().await;
}
