//! A real Mastodon client against two instances: `Mastodon.py` (PyPI
//! `mastodon-py`, pinned in `tests/client/requirements.txt`) runs
//! `tests/client/mastodon_py_flow.py`, which registers apps, signs people in
//! through the OAuth authorization-code flow over HTTP, posts, reads
//! timelines, follows across instances, joins a community, favourites,
//! reblogs, reads notifications, edits and deletes, checking each answer;
//! and one script per feature against one instance (`mastodon_py_media`,
//! `_filters`, `_lists_tags`, `_push`, `_extras`, `_kinds`), all run by
//! [`run_client_script`].
//!
//! The Python side is installed once into a virtualenv under
//! `target/mastodon-py-venv` (under a file lock, skipped while the
//! requirements and the Python version are unchanged), so only the first run
//! needs PyPI. Python 3 with its `venv` module must be installed (Debian:
//! `apt-get install -y python3-venv`).

use crate::{
    communities::create_community,
    harness::{both_backends, settle, TestInstance},
};
use outloud::{
    config::Backend,
    db::{actor::Actor, community::Posting},
};
use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

both_backends!(mastodon_py_session, mastodon_py_media);

/// Every person's password (the harness's `create_user`).
const PASSWORD: &str = "password for tests";

/// How long the whole script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

// ---- the virtualenv ------------------------------------------------------

fn install_hint() -> &'static str {
    "the Mastodon.py client test (tests/integration/mastodon_py.rs) needs Python 3 \
     with its venv module on PATH as `python3` (Debian: `apt-get install -y python3 \
     python3-venv`)"
}

/// `target/` of this build (`CARGO_TARGET_TMPDIR` is `target/tmp`).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/client")
}

/// The virtualenv's Python, installing it first unless it holds the current
/// requirements. Once per process; a file lock keeps concurrent test
/// processes (nextest) from installing at once.
pub(crate) fn venv_python() -> Result<&'static Path, &'static str> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(|| install_venv("requirements.txt", "mastodon-py-venv")) {
        Ok(python) => Ok(python),
        Err(e) => Err(e),
    }
}

/// The Python of a second virtualenv with the S3 server of the media
/// store test (`tests/client/requirements-s3.txt`: moto), made as the
/// Mastodon.py one is.
pub fn s3_venv_python() -> Result<&'static Path, &'static str> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(|| install_venv("requirements-s3.txt", "moto-venv")) {
        Ok(python) => Ok(python),
        Err(e) => Err(e),
    }
}

/// The Python of `target/smtp-venv` with aiosmtpd (the digest e-mail
/// tests' SMTP sink, `tests/client/requirements-smtp.txt`).
pub fn smtp_venv_python() -> Result<&'static Path, &'static str> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(|| install_venv("requirements-smtp.txt", "smtp-venv")) {
        Ok(python) => Ok(python),
        Err(e) => Err(e),
    }
}

/// 64-bit FNV-1a: a hash that stays the same across Rust releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs `command`; its stdout, or a message with everything it printed.
fn run(command: &mut Command, what: &str) -> Result<String, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Makes (or reuses) `target/{venv_name}` with `tests/client/{requirements}`.
fn install_venv(requirements: &str, venv_name: &str) -> Result<PathBuf, String> {
    let requirements_name = requirements;
    let hint = install_hint();
    let version = run(
        Command::new("python3").args(["-c", "import sys; print(sys.version)"]),
        "running `python3`",
    )
    .map_err(|e| format!("{hint}\n({e})"))?;
    let requirements = client_dir().join(requirements_name);
    let wanted = std::fs::read(&requirements)
        .map_err(|e| format!("reading tests/client/{requirements_name}: {e}"))?;

    let target = target_dir();
    std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
    let lock = std::fs::File::create(target.join(format!("{venv_name}.lock")))
        .map_err(|e| format!("creating target/{venv_name}.lock: {e}"))?;
    lock.lock()
        .map_err(|e| format!("locking target/{venv_name}.lock: {e}"))?;

    let venv = target.join(venv_name);
    let python = venv.join("bin").join("python3");
    let marker = venv.join(".installed");
    let stamp = format!(
        "{:016x}\n",
        fnv1a(&[&wanted[..], version.as_bytes()].concat())
    );
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(python);
    }

    // New requirements or a new Python: a fresh virtualenv.
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| format!("removing {venv:?}: {e}"))?;
    }
    eprintln!("creating a virtualenv in {venv:?}");
    if let Err(e) = run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "`python3 -m venv`",
    ) {
        let _ = std::fs::remove_dir_all(&venv);
        return Err(format!(
            "{hint}: creating the virtualenv failed; on Debian the venv module \
             and ensurepip come with the package python3-venv\n{e}"
        ));
    }
    eprintln!("installing tests/client/{requirements_name}");
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--no-input", "--quiet", "-r"])
            .arg(&requirements),
        &format!("`pip install -r tests/client/{requirements_name}` (the first run needs PyPI)"),
    )?;
    std::fs::write(&marker, stamp).map_err(|e| format!("writing {marker:?}: {e}"))?;
    drop(lock);
    Ok(python)
}

// ---- the script, run while federation is stepped --------------------------

/// A child process killed when dropped (a panic included).
struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `tests/client/<script>` with `envs`, calling `step` every 100 ms
/// while it runs (the harness's instances have no background workers, so
/// the caller settles deliveries or steps the push queue there; the
/// instances run on this runtime, so waiting must not block it). Panics with
/// the script's output unless it exits successfully within
/// [`SCRIPT_TIMEOUT`].
pub(crate) async fn run_client_script(
    python: &Path,
    script: &str,
    envs: &[(&str, &str)],
    mut step: impl AsyncFnMut(),
) {
    let mut command = Command::new(python);
    command.args(["-I", "-u"]).arg(client_dir().join(script));
    for (name, value) in envs {
        command.env(name, value);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {python:?}: {e}"));
    let mut script_process = Script(child);
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = reader(Box::new(script_process.0.stdout.take().unwrap()));
    let stderr = reader(Box::new(script_process.0.stderr.take().unwrap()));
    let deadline = tokio::time::Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = script_process.0.try_wait().unwrap() {
            break Some(status);
        }
        if tokio::time::Instant::now() > deadline {
            break None;
        }
        step().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(script_process);
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    match status {
        Some(status) if status.success() => {
            // Shown with --nocapture (Mastodon.py's warnings go to stderr).
            println!("{stdout}");
            if !stderr.trim().is_empty() {
                eprintln!("stderr of tests/client/{script}:\n{stderr}");
            }
        }
        Some(status) => {
            panic!("tests/client/{script} failed ({status}):\n{stdout}\nstderr:\n{stderr}")
        }
        None => panic!(
            "tests/client/{script} did not finish in {SCRIPT_TIMEOUT:?}:\n\
             {stdout}\nstderr:\n{stderr}"
        ),
    }
}

/// Nothing to step while a one-instance script runs.
async fn nothing() {}

/// The Python of the shared virtualenv, installed on first use.
async fn python() -> &'static Path {
    tokio::task::spawn_blocking(venv_python)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// An access token of `who`'s with `scopes` (issued by the built-in app).
async fn token(instance: &TestInstance, who: &Actor, scopes: &str) -> String {
    outloud::service::oauth::token_for_user(&instance.context.db, who, scopes)
        .await
        .unwrap()
        .access_token
}

// ---- the scenario ----------------------------------------------------------

/// alice on alpha; bob and carol on beta, with bob's community `rust` that
/// anyone may post into. Everything else happens through the client API.
async fn mastodon_py_session(backend: Backend) {
    let python = python().await;
    let (alpha, beta) = tokio::join!(
        TestInstance::spawn("alpha", backend),
        TestInstance::spawn("beta", backend)
    );
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    beta.create_user("carol").await;
    create_community(&beta, "rust", &bob, false, false, Posting::Anyone).await;
    let envs = [
        ("OUTLOUD_ALPHA_URL", alpha.url("")),
        ("OUTLOUD_BETA_URL", beta.url("")),
        ("OUTLOUD_PASSWORD", PASSWORD.to_string()),
        ("OUTLOUD_COMMUNITY", "rust".to_string()),
    ];
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_client_script(python, "mastodon_py_flow.py", &envs, async || {
        settle(&[&alpha, &beta]).await
    })
    .await;
}

// ---- media -------------------------------------------------------------------

/// `tests/client/mastodon_py_media.py` against one instance, as alice with
/// a `read write` token: uploads, `media_update`, statuses with media,
/// reading them back, the files, avatar and header.
async fn mastodon_py_media(backend: Backend) {
    let python = python().await;
    let media = tempfile::tempdir().unwrap();
    let media_path = media.path().to_string_lossy().into_owned();
    let alpha = TestInstance::spawn_with("alpha", backend, |c| c.media.path = media_path).await;
    let alice = alpha.create_user("alice").await;
    let alice_token = token(&alpha, &alice, "read write").await;
    let url = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
    ];
    run_client_script(python, "mastodon_py_media.py", &envs, nothing).await;
}

// ---- filters -----------------------------------------------------------------

/// `tests/client/mastodon_py_filters.py` against one instance, as alice
/// (following bob) with bob's token for his posts: filters v2 round trip
/// and `filtered` in `timeline_home`.
async fn mastodon_py_filters(backend: Backend) {
    let python = python().await;
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    let alice_token = token(&alpha, &alice, "read write").await;
    let bob_token = token(&alpha, &bob, "read write").await;
    let url = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
        ("OUTLOUD_BOB_TOKEN", &bob_token),
    ];
    run_client_script(python, "mastodon_py_filters.py", &envs, nothing).await;
}

both_backends!(mastodon_py_filters);

// ---- lists and followed tags ------------------------------------------------

/// `tests/client/mastodon_py_lists_tags.py` against one instance, as alice
/// (following bob) with bob's and carol's tokens for their posts: lists
/// and followed hashtags round trip, a followed tag's status in
/// `timeline_home`.
async fn mastodon_py_lists_tags(backend: Backend) {
    let python = python().await;
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    let carol = alpha.create_user("carol").await;
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    let alice_token = token(&alpha, &alice, "read write").await;
    let bob_token = token(&alpha, &bob, "read write").await;
    let carol_token = token(&alpha, &carol, "read write").await;
    let url = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
        ("OUTLOUD_BOB_TOKEN", &bob_token),
        ("OUTLOUD_CAROL_TOKEN", &carol_token),
    ];
    run_client_script(python, "mastodon_py_lists_tags.py", &envs, nothing).await;
}

both_backends!(mastodon_py_lists_tags);

// ---- push --------------------------------------------------------------------

/// The Python of the push test's virtualenv: Mastodon.py with its webpush
/// extras (`tests/client/requirements-push.txt`: cryptography, http_ece).
fn push_venv_python() -> Result<&'static Path, &'static str> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(|| install_venv("requirements-push.txt", "mastodon-py-push-venv")) {
        Ok(python) => Ok(python),
        Err(e) => Err(e),
    }
}

/// `tests/client/mastodon_py_push.py` against one instance: alice
/// subscribes with Mastodon.py's keys, bob mentions her, the script's own
/// push service receives the push and Mastodon.py decrypts it. The
/// harness's instance has no background workers, so this steps the push
/// queue every 100 ms while the script runs.
async fn mastodon_py_push(backend: Backend) {
    let python = tokio::task::spawn_blocking(push_venv_python)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    let alice_token = token(&alpha, &alice, "read write push").await;
    let bob_token = token(&alpha, &bob, "read write").await;
    let url = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
        ("OUTLOUD_BOB_TOKEN", &bob_token),
    ];
    run_client_script(python, "mastodon_py_push.py", &envs, async || {
        outloud::push::deliver_due(&alpha.context).await.unwrap();
    })
    .await;
}

both_backends!(mastodon_py_push);

// ---- suggestions, instance texts, notification policy ------------------------

/// `tests/client/mastodon_py_extras.py` against one instance, as alice
/// (following bob, who follows carol), with carol's and dave's tokens for
/// their mentions: suggestions, extended description, activity, and the
/// notification policy with its requests.
async fn mastodon_py_extras(backend: Backend) {
    let python = python().await;
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let carol = alpha.create_user("carol").await;
    let dave = alpha.create_user("dave").await;
    // Suggestions list only people who chose to be discoverable.
    for name in ["alice", "bob", "carol", "dave"] {
        alpha.opt_in(name).await;
    }
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    alpha.follow("bob", &alpha.handle_of("carol")).await;
    let alice_token = token(&alpha, &alice, "read write follow").await;
    let carol_token = token(&alpha, &carol, "read write").await;
    let dave_token = token(&alpha, &dave, "read write").await;
    let url = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
        ("OUTLOUD_CAROL_TOKEN", &carol_token),
        ("OUTLOUD_DAVE_TOKEN", &dave_token),
    ];
    run_client_script(python, "mastodon_py_extras.py", &envs, nothing).await;
}

both_backends!(mastodon_py_extras);

// ---- narration kinds ---------------------------------------------------------

/// `tests/client/mastodon_py_kinds.py` against one instance, as alice
/// (following bob) with bob's token for his posts: a kind hashtag sets the
/// kind (issue 13 §1), the status carries `outloud.kind`, edits change it,
/// and `kind=` filters home (422 when unknown).
async fn mastodon_py_kinds(backend: Backend) {
    let python = python().await;
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    let alice_token = token(&alpha, &alice, "read write").await;
    let bob_token = token(&alpha, &bob, "read write").await;
    let url = alpha.url("");
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
        ("OUTLOUD_BOB_TOKEN", &bob_token),
    ];
    run_client_script(python, "mastodon_py_kinds.py", &envs, nothing).await;
}

both_backends!(mastodon_py_kinds);

// ---- partners ----------------------------------------------------------------

/// `tests/client/mastodon_py_partners.py`: alpha names beta a partner;
/// alice (on alpha) follows bob (on beta), who posts a public and an
/// unlisted narration; Mastodon.py opens the Partners timeline as the
/// list `partners` (issue 13 §5) and sees the public one only.
async fn mastodon_py_partners(backend: Backend) {
    use outloud::{db::post::Visibility, service::posts::NewPost};
    let python = python().await;
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    beta.create_user("bob").await;
    alpha.follow("alice", &beta.handle_of("bob")).await;
    settle(&[&alpha, &beta]).await;
    let public = beta
        .publish("bob", NewPost::note("Public, from a partner"))
        .await;
    let unlisted = beta
        .publish(
            "bob",
            NewPost {
                visibility: Visibility::Unlisted,
                ..NewPost::note("Unlisted, from a partner")
            },
        )
        .await;
    settle(&[&alpha, &beta]).await;
    assert!(alpha.stored_post(public.ap_id.as_str()).await.is_some());
    assert!(alpha.stored_post(unlisted.ap_id.as_str()).await.is_some());
    outloud::service::partners::add(&alpha.context.db, &beta.domain, None)
        .await
        .unwrap();
    let alice_token = token(&alpha, &alice, "read write").await;
    let url = alpha.url("");
    let uri = public.ap_id.to_string();
    let envs = [
        ("OUTLOUD_ALPHA_URL", url.as_str()),
        ("OUTLOUD_TOKEN", &alice_token),
        ("OUTLOUD_PARTNER_URI", &uri),
    ];
    run_client_script(python, "mastodon_py_partners.py", &envs, nothing).await;
}

both_backends!(mastodon_py_partners);
