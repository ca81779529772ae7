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

async fn browser_sees_home(backend: Backend) {
    let alpha = TestInstance::spawn_with("alpha", backend, |config| {
        config.instance.name = "Guild of Smoke Testers".into();
    })
    .await;
    let label = format!("browser_sees_home-{backend:?}").to_lowercase();
    let Some(browser) = Browser::start(&label).await else {
        return;
    };

    // The start page loads without a console error (its icon is
    // `/static/icon.svg`, so no `/favicon.ico` 404), under its own name.
    browser.goto(&alpha.url("/")).await;
    browser.screenshot("home").await;
    let errors = browser.console_errors().await;
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
    assert_eq!(
        browser.texts("header a.brand").await,
        ["Guild of Smoke Testers"]
    );
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
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "reported twice: {errors:?}");

    // A click that navigates waits for the new page; one that does not
    // returns on the same page.
    browser.click("header a.brand").await;
    assert_eq!(browser.current_url().await, alpha.url("/"));
    assert_eq!(browser.text("h1").await, "Guild of Smoke Testers");
    browser.click("h1").await;
    assert_eq!(browser.current_url().await, alpha.url("/"));

    // A Content-Security-Policy violation is an error too.
    browser
        .goto(
            "data:text/html;charset=utf-8,<!DOCTYPE html><title>csp</title>\
             <meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">\
             <script>document.title = 'ran';</script>",
        )
        .await;
    assert_eq!(browser.title().await, "csp");
    let errors = console_errors_until(&browser, "Content Security Policy").await;
    assert!(
        errors.iter().any(|e| e.contains("Content Security Policy")),
        "CSP violation not reported: {errors:?}"
    );

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
    let errors = browser.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors after the form: {errors:?}"
    );

    browser.close().await;
}

/// A click on a form's button waits for the page even when the server takes
/// its time and answers with a redirect (post, redirect, get).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_click_waits_for_slow_page() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                let (head, body_len) = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        break (head, end + 4 + len);
                    }
                };
                while request.len() < body_len {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let page = |body: &str| {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let response = if head.starts_with("POST /slow ") {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    "HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\
                     Connection: close\r\n\r\n"
                        .to_string()
                } else if head.starts_with("GET /done ") {
                    page("<!DOCTYPE html><title>done</title><link rel=icon href=\"data:,\"><h1>Done</h1>")
                } else {
                    page(
                        "<!DOCTYPE html><title>start</title><link rel=icon href=\"data:,\">\
                         <form method=post action=/slow><input name=a value=1>\
                         <button>Send</button></form>",
                    )
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });

    let Some(browser) = Browser::start("browser_click_waits_for_slow_page").await else {
        return;
    };
    let start = format!("http://slow.localhost:{port}/");
    browser.goto(&start).await;
    browser.assert_console_clean().await;
    let clicked = Instant::now();
    browser.click("button").await;
    assert!(clicked.elapsed() >= Duration::from_millis(1500));
    assert_eq!(
        browser.current_url().await,
        format!("http://slow.localhost:{port}/done")
    );
    assert_eq!(browser.text("h1").await, "Done");
    browser.assert_console_clean().await;
    browser.close().await;
}
