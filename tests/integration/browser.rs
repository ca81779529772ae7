//! A real browser for page tests: headless Chromium driven over WebDriver
//! (chromedriver, through the `thirtyfour` client).
//!
//! One [`Browser`] per test: it starts its own chromedriver on a free
//! 127.0.0.1 port and one Chromium session, so tests run in parallel without
//! sharing state. Chromium resolves `*.localhost` to 127.0.0.1 itself, so
//! `TestInstance::url` works as is.
//!
//! Every method panics with the page's URL and the selector when something
//! is wrong, so a failing page test says where it failed. What every page
//! test does per page is [`Browser::visit`]: navigate, save a screenshot
//! under `target/screenshots/`, and fail on any console error.
//!
//! When Chromium or chromedriver is not installed, [`Browser::start`] prints
//! a notice and returns `None` (the test then passes without checking the
//! pages), unless `OUTLOUD_TEST_BROWSER_REQUIRED=1` (set by `.ci/run`), which
//! turns the skip into a failure.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use thirtyfour::{
    common::capabilities::chromium::ChromiumLikeCapabilities, components::SelectElement,
    prelude::*, DesiredCapabilities, LoggingPrefsLogLevel,
};

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The command-line switches every session gets. `--no-proxy-server`: test
/// traffic never leaves loopback, whatever proxy the environment names.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=en",
    "--no-proxy-server",
];

/// How long chromedriver may take to answer `/status` after it starts.
const DRIVER_READY: Duration = Duration::from_secs(20);
/// How long a page may take to load (`goto`, or a click that navigates).
const PAGE_LOAD: Duration = Duration::from_secs(30);
/// How long after a click a navigation must have begun to be waited for.
const NAVIGATION_GRACE: Duration = Duration::from_millis(500);

/// A headless Chromium session with its own chromedriver.
pub struct Browser {
    label: String,
    // Field order matters: the session is dropped (and, after a panic,
    // quit synchronously by thirtyfour) before chromedriver is killed.
    driver: WebDriver,
    _chromedriver: DriverProcess,
}

/// The chromedriver child process, killed when dropped (also when the test
/// panics).
struct DriverProcess(Child);

impl Drop for DriverProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A message in the browser console, as chromedriver reports it.
#[derive(Debug, Clone)]
pub struct ConsoleEntry {
    /// `SEVERE`, `WARNING`, `INFO`, …
    pub level: String,
    /// `console-api`, `javascript`, `network`, `security`, … when known.
    pub source: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ConsoleEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(source) => write!(f, "[{} {source}] {}", self.level, self.message),
            None => write!(f, "[{}] {}", self.level, self.message),
        }
    }
}

impl Browser {
    /// Starts chromedriver on a free 127.0.0.1 port and a headless Chromium
    /// session (see [`CHROMIUM_ARGS`]; browser console logging on).
    ///
    /// `label` names the test in notices and screenshot file names; make it
    /// unique per test and backend (e.g. `home-sqlite`) so parallel tests do
    /// not overwrite each other's screenshots.
    ///
    /// When [`CHROMIUM`] or [`CHROMEDRIVER`] is missing: prints
    /// "NOTICE: browser test `{label}` skipped: …" to stderr and returns
    /// `None`, unless `OUTLOUD_TEST_BROWSER_REQUIRED=1`, then it panics with
    /// the reason. A browser that is installed but fails to start is always
    /// a failure.
    pub async fn start(label: &str) -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            let reason = format!(
                "{} {} not installed (Debian packages `chromium` and `chromium-driver`)",
                missing.join(" and "),
                if missing.len() == 1 { "is" } else { "are" }
            );
            if std::env::var("OUTLOUD_TEST_BROWSER_REQUIRED").as_deref() == Ok("1") {
                panic!("browser test `{label}` needs a browser, but {reason}");
            }
            eprintln!("NOTICE: browser test `{label}` skipped: {reason}");
            return None;
        }

        let (chromedriver, url) = start_chromedriver(label).await;

        let mut caps = DesiredCapabilities::chrome();
        let configured = (|| -> WebDriverResult<()> {
            caps.set_binary(CHROMIUM)?;
            for arg in CHROMIUM_ARGS {
                caps.add_arg(arg)?;
            }
            // `--lang` sets the UI language on some platforms only; the
            // Accept-Language header comes from this preference.
            caps.add_experimental_option("prefs", json!({ "intl.accept_languages": "en" }))?;
            // `goog:loggingPrefs: {"browser": "ALL"}`: keep console messages
            // for `POST /session/{id}/log`.
            caps.set_browser_log_level(LoggingPrefsLogLevel::All)?;
            Ok(())
        })();
        if let Err(e) = configured {
            panic!("browser test `{label}`: capabilities refused: {e}");
        }

        // The client talks to chromedriver on loopback only: no proxy.
        let http = match reqwest::Client::builder().no_proxy().build() {
            Ok(http) => http,
            Err(e) => panic!("browser test `{label}`: HTTP client: {e}"),
        };
        let driver = match WebDriver::builder(&url, caps)
            .client(http)
            .request_timeout(PAGE_LOAD + Duration::from_secs(30))
            .await
        {
            Ok(driver) => driver,
            Err(e) => panic!("browser test `{label}`: Chromium session failed to start: {e}"),
        };
        let browser = Browser {
            label: label.to_string(),
            driver,
            _chromedriver: chromedriver,
        };
        if let Err(e) = browser.driver.set_page_load_timeout(PAGE_LOAD).await {
            panic!("browser test `{label}`: page load timeout: {e}");
        }
        if let Err(e) = browser
            .driver
            .set_implicit_wait_timeout(Duration::ZERO)
            .await
        {
            panic!("browser test `{label}`: implicit wait: {e}");
        }
        Some(browser)
    }

    /// The WebDriver session, for what this helper does not cover.
    pub fn driver(&self) -> &WebDriver {
        &self.driver
    }

    /// Navigates to `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.driver.goto(url).await {
            panic!("browser `{}`: cannot open {url}: {e}", self.label);
        }
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> String {
        match self.driver.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => panic!("browser `{}`: current URL unknown: {e}", self.label),
        }
    }

    /// The current page's HTML (as the browser serialises its DOM).
    pub async fn source(&self) -> String {
        match self.driver.source().await {
            Ok(html) => html,
            Err(e) => self.fail("page source", e).await,
        }
    }

    /// The current page's `<title>`.
    pub async fn title(&self) -> String {
        match self.driver.title().await {
            Ok(title) => title,
            Err(e) => self.fail("page title", e).await,
        }
    }

    /// The visible text of the first element matching `css`; panics with
    /// the page URL and the selector when none does.
    pub async fn text(&self, css: &str) -> String {
        let element = self.first(css).await;
        match element.text().await {
            Ok(text) => text,
            Err(e) => self.fail(&format!("text of `{css}`"), e).await,
        }
    }

    /// The visible text of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.all(css).await {
            match element.text().await {
                Ok(text) => texts.push(text),
                Err(e) => self.fail(&format!("text of `{css}`"), e).await,
            }
        }
        texts
    }

    /// Whether any element matches `css`.
    pub async fn exists(&self, css: &str) -> bool {
        !self.all(css).await.is_empty()
    }

    /// Clears the first input or textarea matching `css` and types `value`.
    pub async fn fill(&self, css: &str, value: &str) {
        let element = self.first(css).await;
        if let Err(e) = element.clear().await {
            self.fail(&format!("clearing `{css}`"), e).await
        }
        if let Err(e) = element.send_keys(value).await {
            self.fail(&format!("typing into `{css}`"), e).await
        }
    }

    /// Chooses the `<option value="{value}">` of the first `<select>`
    /// matching `css`; panics when it has no such option.
    pub async fn select(&self, css: &str, value: &str) {
        let element = self.first(css).await;
        let select = match SelectElement::new(&element).await {
            Ok(select) => select,
            Err(e) => self.fail(&format!("`{css}` as a <select>"), e).await,
        };
        if let Err(e) = select.select_by_value(value).await {
            self.fail(&format!("choosing `{value}` in `{css}`"), e)
                .await
        }
        let chosen = match element.prop("value").await {
            Ok(chosen) => chosen,
            Err(e) => self.fail(&format!("value of `{css}`"), e).await,
        };
        if chosen.as_deref() != Some(value) {
            panic!(
                "browser `{}` at {}: `{css}` has no option with value `{value}` (value is {chosen:?})",
                self.label,
                self.here().await
            );
        }
    }

    /// Clicks the first element matching `css`; if that starts a navigation
    /// (a link, a form submission), waits until the new page has loaded.
    pub async fn click(&self, css: &str) {
        let element = self.first(css).await;
        let token = uuid::Uuid::new_v4().to_string();
        // Marks this document, and notes when it is about to be left:
        // `beforeunload` fires as a cross-document navigation begins (for a
        // form, before the request is sent), not for in-page jumps.
        let mark = r#"
            window.__outloudMark = arguments[0];
            window.__outloudLeaving = false;
            window.addEventListener('beforeunload', () => { window.__outloudLeaving = true; });
        "#;
        if let Err(e) = self.driver.execute(mark, vec![json!(token)]).await {
            self.fail("marking the page before a click", e).await
        }
        if let Err(e) = element.click().await {
            self.fail(&format!("clicking `{css}`"), e).await
        }

        let probe = r#"
            return [window.__outloudMark === arguments[0],
                    window.__outloudLeaving === true,
                    document.readyState];
        "#;
        let clicked = Instant::now();
        let mut leaving = false;
        loop {
            // chromedriver holds scripts back while a navigation is pending,
            // and a script can fail while the old document goes away: both
            // just mean "look again".
            let state = match self.driver.execute(probe, vec![json!(token)]).await {
                Ok(ret) => ret.json().clone(),
                Err(_) => Value::Null,
            };
            let same_document = state[0].as_bool();
            leaving |= state[1].as_bool() == Some(true);
            let complete = state[2].as_str() == Some("complete");
            match same_document {
                Some(false) if complete => return,
                Some(true) if !leaving && clicked.elapsed() >= NAVIGATION_GRACE => return,
                _ => {}
            }
            if clicked.elapsed() > PAGE_LOAD {
                panic!(
                    "browser `{}` at {}: clicking `{css}` started a navigation that did not \
                     finish within {PAGE_LOAD:?} (a 204 answer or a download also look like this)",
                    self.label,
                    self.here().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG of the viewport to
    /// `target/screenshots/{label}-{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshot_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        let path = dir.join(format!(
            "{}-{}.png",
            file_name_part(&self.label),
            file_name_part(name)
        ));
        let png = match self.driver.screenshot_as_png().await {
            Ok(png) => png,
            Err(e) => self.fail(&format!("screenshot `{name}`"), e).await,
        };
        if let Err(e) = std::fs::write(&path, png) {
            panic!("cannot write {}: {e}", path.display());
        }
    }

    /// Everything the browser console received since the last call (the
    /// log is drained by reading it), at every level.
    pub async fn console(&self) -> Vec<ConsoleEntry> {
        match self.driver.browser_log().await {
            Ok(entries) => entries
                .into_iter()
                .map(|e| ConsoleEntry {
                    level: e.level,
                    source: e.source,
                    message: e.message,
                })
                .collect(),
            Err(e) => self.fail("reading the browser console", e).await,
        }
    }

    /// The console's `SEVERE` entries since the last call: JavaScript
    /// errors, `console.error`, CSP violations, failed resource loads.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|e| e.level == "SEVERE")
            .map(|e| e.to_string())
            .collect()
    }

    /// Fails the test, listing the messages, if the browser console
    /// received any `SEVERE` entry since the last call.
    pub async fn assert_console_clean(&self) {
        let errors = self.console_errors().await;
        if !errors.is_empty() {
            panic!(
                "browser `{}` at {}: the console has {} error(s):\n  {}",
                self.label,
                self.here().await,
                errors.len(),
                errors.join("\n  ")
            );
        }
    }

    /// What every page test does per page: [`goto`](Self::goto),
    /// [`screenshot`](Self::screenshot) named `shot`, and
    /// [`assert_console_clean`](Self::assert_console_clean).
    pub async fn visit(&self, url: &str, shot: &str) {
        self.goto(url).await;
        self.screenshot(shot).await;
        self.assert_console_clean().await;
        self.assert_accessible().await;
    }

    /// What the browser finds wrong with the current HTML page against the
    /// structural rules of docs/web.md: `lang` set, one `h1`, the `main`
    /// landmark, every visible control labelled, every button and link
    /// named, every image with `alt`, ids unique. Empty for other
    /// documents (feeds).
    pub async fn accessibility_problems(&self) -> Vec<String> {
        const CHECK: &str = r#"
            if (document.contentType !== "text/html") { return []; }
            const problems = [];
            if (!document.documentElement.lang) { problems.push("no lang on <html>"); }
            const h1 = document.querySelectorAll("h1").length;
            if (h1 !== 1) { problems.push(h1 + " <h1> elements"); }
            if (document.querySelectorAll("main").length !== 1) { problems.push("not one <main>"); }
            const named = (el) => (el.getAttribute("aria-label") || "").trim() ||
                (el.getAttribute("aria-labelledby") || "").trim() || (el.textContent || "").trim() ||
                (el.getAttribute("title") || "").trim();
            for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
                const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
                const ok = byFor || el.closest("label") || (el.getAttribute("aria-label") || "").trim() ||
                    el.getAttribute("aria-labelledby") ||
                    ((el.type === "submit" || el.type === "button") && (el.value || "").trim());
                if (!ok) { problems.push("unlabelled control: " + el.outerHTML.slice(0, 120)); }
            }
            for (const el of document.querySelectorAll("button, a[href]")) {
                if (!named(el)) { problems.push("unnamed " + el.tagName.toLowerCase() + ": " + el.outerHTML.slice(0, 120)); }
            }
            for (const img of document.querySelectorAll("img")) {
                if (!img.hasAttribute("alt")) { problems.push("image without alt: " + img.outerHTML.slice(0, 120)); }
            }
            const seen = new Set();
            for (const el of document.querySelectorAll("[id]")) {
                if (seen.has(el.id)) { problems.push("duplicate id " + el.id); }
                seen.add(el.id);
            }
            return problems;
        "#;
        match self.driver.execute(CHECK, Vec::new()).await {
            Ok(ret) => match ret.convert::<Vec<String>>() {
                Ok(problems) => problems,
                Err(e) => self.fail("accessibility check result", e).await,
            },
            Err(e) => self.fail("accessibility check", e).await,
        }
    }

    /// Fails the test when [`Browser::accessibility_problems`] finds any.
    pub async fn assert_accessible(&self) {
        let problems = self.accessibility_problems().await;
        if !problems.is_empty() {
            let url = self.current_url().await;
            panic!(
                "browser `{}` at {url}: accessibility problems:\n  {}",
                self.label,
                problems.join("\n  ")
            );
        }
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(self) {
        let Browser {
            label,
            driver,
            _chromedriver,
        } = self;
        if let Err(e) = driver.quit().await {
            panic!("browser `{label}`: closing the session failed: {e}");
        }
    }

    async fn first(&self, css: &str) -> WebElement {
        match self.all(css).await.into_iter().next() {
            Some(element) => element,
            None => panic!(
                "browser `{}` at {}: nothing matches `{css}`",
                self.label,
                self.here().await
            ),
        }
    }

    async fn all(&self, css: &str) -> Vec<WebElement> {
        match self.driver.find_all(By::Css(css)).await {
            Ok(elements) => elements,
            Err(e) => self.fail(&format!("finding `{css}`"), e).await,
        }
    }

    /// The current URL for messages, or why it is unknown.
    async fn here(&self) -> String {
        match self.driver.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("<unknown page: {e}>"),
        }
    }

    async fn fail(&self, what: &str, error: WebDriverError) -> ! {
        panic!(
            "browser `{}` at {}: {what} failed: {error}",
            self.label,
            self.here().await
        )
    }
}

/// Starts chromedriver on a free port and waits until it answers; returns
/// it with its URL. Retries on another port if the chosen one was taken in
/// between.
async fn start_chromedriver(label: &str) -> (DriverProcess, String) {
    let http = match reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
    {
        Ok(http) => http,
        Err(e) => panic!("browser test `{label}`: HTTP client: {e}"),
    };
    let mut last_problem = String::new();
    for _attempt in 0..3 {
        let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => panic!("browser test `{label}`: no free port: {e}"),
        };
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // Chromium takes its UI language from the environment on Linux.
            .env("LANGUAGE", "en")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut process = match child {
            Ok(child) => DriverProcess(child),
            Err(e) => panic!("browser test `{label}`: cannot run {CHROMEDRIVER}: {e}"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = process.0.try_wait() {
                last_problem = format!("chromedriver exited with {status}");
                break;
            }
            if let Ok(res) = http.get(format!("{url}/status")).send().await {
                if let Ok(body) = res.json::<Value>().await {
                    if body["value"]["ready"] == json!(true) {
                        return (process, url);
                    }
                }
            }
            if started.elapsed() > DRIVER_READY {
                last_problem = format!("chromedriver did not answer within {DRIVER_READY:?}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("browser test `{label}`: {last_problem}")
}

/// `$CARGO_TARGET_DIR/screenshots`, else `target/screenshots` in the crate.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

/// Keeps letters, digits, `-`, `_` and `.`; anything else becomes `-`.
fn file_name_part(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}
