//! The `outloud` command: a thin layer over the library. Every failure ends
//! with a one-line message naming the problem and a non-zero exit status.

use clap::{Parser, Subcommand};
use outloud::{
    config::{Config, ENV_CONFIG_FILE},
    db::{community::Posting, domain_policy::PolicyAction, local_user::Role},
    service, startup, telemetry,
    urls::Urls,
};
use std::{io::Read, path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(
    name = "outloud",
    version,
    about = "A federated server for working out loud"
)]
struct Cli {
    /// Configuration file (TOML); without one, defaults and OUTLOUD_* variables apply.
    #[arg(long, global = true, env = ENV_CONFIG_FILE)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then serve HTTP until SIGTERM or SIGINT.
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Administration tasks.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Subcommand)]
enum Admin {
    /// Create a local account (prints a generated password unless --password-stdin).
    CreateUser {
        /// Account name: letters a-z, digits and _, at most 30.
        name: String,
        /// Give the account the admin role.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a community of practice (a Group actor) owned by a local user.
    CreateCommunity {
        /// Community name: letters a-z, digits and _, at most 30 (shared with user names).
        name: String,
        /// The local user who owns and first moderates it.
        #[arg(long)]
        owner: String,
        /// Joining needs a moderator's approval.
        #[arg(long)]
        approval: bool,
        /// Only members see its posts (implies --approval).
        #[arg(long)]
        members_only: bool,
        /// Who may post: members, anyone or moderators.
        #[arg(long, default_value = "members")]
        posting: String,
        /// The community's icon, as an http(s) URL.
        #[arg(long)]
        icon: Option<String>,
    },
    /// Print an OAuth access token for a local account, for scripts and
    /// client tests (Authorization: Bearer TOKEN).
    CreateToken {
        /// The local account the token acts for.
        user: String,
        /// Space-separated scopes (read, write, follow, push, or granular
        /// ones such as read:statuses).
        #[arg(long, default_value = "read write follow")]
        scopes: String,
    },
    /// Suspend a local account: it cannot sign in, its sessions and tokens
    /// end, and its followers' servers are told (an Update of the actor with
    /// `suspended: true`; docs/FEDERATION.md).
    Suspend {
        /// The local account's name.
        user: String,
    },
    /// Reinstate a suspended local account (and tell its followers' servers).
    Unsuspend {
        /// The local account's name.
        user: String,
    },
    /// Move a local account to another one (Mastodon's account migration):
    /// the target must list the account in its aliases (`alsoKnownAs`);
    /// followers are sent a `Move` (docs/FEDERATION.md, Moving accounts).
    Move {
        /// The local account's name.
        user: String,
        /// The new account: `name@host` or its actor URL.
        target: String,
    },
    /// The federation policy: which domains this instance talks to.
    #[command(subcommand)]
    Federation(Federation),
    /// Partner instances: whose public narrations the Partners timeline
    /// shows (docs/api.md, Partners).
    #[command(subcommand)]
    Partners(Partners),
    /// Show the outbound delivery queue: pending, failed and unreachable
    /// hosts (docs/delivery.md).
    Deliveries {
        /// Only this host (host[:port], as shown in the listing).
        #[arg(long)]
        host: Option<String>,
        /// Revive an unreachable (or failing) host: clear its failure record
        /// and send its parked deliveries now.
        #[arg(long, value_name = "HOST", conflicts_with = "host")]
        revive: Option<String>,
    },
    /// Write the archive of any local account (its profile, narrations,
    /// follows and communities: docs/web.md, "Your archive") to a zip file.
    Export {
        /// The local account's name.
        user: String,
        /// The zip file to write (`-` for standard output).
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum Federation {
    /// Allow a domain (what counts in `federation.policy = "allowlist"` mode).
    Allow { domain: String },
    /// Block a domain (refused in every mode).
    Block { domain: String },
    /// Remove a domain's entry.
    Unblock { domain: String },
    /// List every domain with an entry.
    List,
}

#[derive(Subcommand)]
enum Partners {
    /// Name a partner instance (host or host:port; adding twice is fine).
    Add { host: String },
    /// Forget a partner instance.
    Remove { host: String },
    /// List the partner instances, one host a line.
    List,
}

fn main() -> ExitCode {
    // Before any thread can use OpenSSL: no cleanup at exit under threads
    // still using it (see `db::establish_postgres`).
    openssl::init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {}", message.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let config = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    telemetry::init(config.log.format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Admin(Admin::CreateUser {
                name,
                admin,
                password_stdin,
            }) => create_user(config, name, admin, password_stdin).await,
            Command::Admin(Admin::Federation(command)) => federation(config, command).await,
            Command::Admin(Admin::Partners(command)) => partners(config, command).await,
            Command::Admin(Admin::CreateCommunity {
                name,
                owner,
                approval,
                members_only,
                posting,
                icon,
            }) => {
                create_community(config, name, owner, approval, members_only, posting, icon).await
            }
            Command::Admin(Admin::CreateToken { user, scopes }) => {
                create_token(config, user, scopes).await
            }
            Command::Admin(Admin::Suspend { user }) => suspend(config, user, true).await,
            Command::Admin(Admin::Unsuspend { user }) => suspend(config, user, false).await,
            Command::Admin(Admin::Move { user, target }) => {
                move_account(config, user, target).await
            }
            Command::Admin(Admin::Deliveries { host, revive }) => {
                deliveries(config, host, revive).await
            }
            Command::Admin(Admin::Export { user, out }) => export(config, user, out).await,
        }
    })
}

async fn serve(config: Config) -> Result<(), String> {
    let server = startup::build(config, startup::ServerOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    server
        .run_until_stopped()
        .await
        .map_err(|e| format!("server stopped: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config) -> Result<(), String> {
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    drop(db);
    println!("migrations are up to date");
    Ok(())
}

async fn create_user(
    config: Config,
    name: String,
    admin: bool,
    password_stdin: bool,
) -> Result<(), String> {
    // Check the name before asking for a password or touching the database.
    service::accounts::normalize_name(&name).map_err(|e| e.to_string())?;
    let (password, generated) = if password_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let password = input.trim_end_matches(['\r', '\n']).to_string();
        (password, false)
    } else {
        let token = outloud::crypto::random_token(12).map_err(|e| e.to_string())?;
        (token, true)
    };
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    let urls = Urls::new(config.scheme(), &config.instance.domain).map_err(|e| e.to_string())?;
    let role = if admin { Role::Admin } else { Role::User };
    let actor = service::accounts::create_user(
        &db,
        &urls,
        service::accounts::NewUser {
            name: &name,
            password: &password,
            role,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "created {} @{}@{} ({})",
        if admin { "admin" } else { "user" },
        actor.username,
        urls.domain(),
        actor.ap_id
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

async fn create_token(config: Config, user: String, scopes: String) -> Result<(), String> {
    let name = service::accounts::normalize_name(&user).map_err(|e| e.to_string())?;
    // Scopes are checked before the database is touched.
    service::oauth::Scopes::parse(&scopes).map_err(|e| e.to_string())?;
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    let actor = service::accounts::local_person(&db, &name)
        .await
        .map_err(|_| format!("no local user named `{name}`"))?;
    let token = service::oauth::token_for_user(&db, &actor, &scopes)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", token.access_token);
    Ok(())
}

/// The federation data of an admin command and the local person `user`.
async fn local_person(
    config: Config,
    user: &str,
) -> Result<
    (
        outloud::apub::Data<outloud::Context>,
        outloud::db::actor::Actor,
    ),
    String,
> {
    let name = service::accounts::normalize_name(user)
        .map_err(|_| format!("no local user named `{user}`"))?;
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    let federation = startup::build_context(config, db)
        .await
        .map_err(|e| e.to_string())?;
    let data = federation.to_request_data();
    let actor = service::accounts::local_person(&data.db, &name)
        .await
        .map_err(|_| format!("no local user named `{name}`"))?;
    Ok((data, actor))
}

/// `admin export USER --out FILE`: the same streamed archive as the
/// download, written chunk by chunk (never whole in memory).
async fn export(config: Config, user: String, out: std::path::PathBuf) -> Result<(), String> {
    use std::io::Write;
    let (data, actor) = local_person(config, &user).await?;
    let name = actor.username.clone();
    let mut writer: Box<dyn Write> = if out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&out)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?,
        )
    };
    let mut stream = service::portability::export(&data, actor);
    let mut bytes = 0usize;
    while let Some(chunk) = stream.recv().await {
        let chunk = chunk.map_err(|e| format!("the export failed: {e}"))?;
        bytes += chunk.len();
        writer
            .write_all(&chunk)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    writer
        .flush()
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    if out.as_os_str() != "-" {
        eprintln!(
            "wrote the archive of @{name} to {} ({bytes} bytes)",
            out.display()
        );
    }
    Ok(())
}

/// `admin suspend|unsuspend USER`. The Update for the followers' servers
/// is queued in the database; the running server's delivery workers send it.
async fn suspend(config: Config, user: String, suspended: bool) -> Result<(), String> {
    let (data, actor) = local_person(config, &user).await?;
    let changed = service::suspension::set_suspended(
        &data,
        service::suspension::Suspender::Operator,
        &actor.id,
        suspended,
    )
    .await
    .map_err(|e| e.to_string())?;
    let handle = format!("@{}@{}", actor.username, data.urls.domain());
    match (suspended, changed) {
        (true, true) => println!(
            "suspended {handle}: its sessions and tokens have ended; its followers' servers will be told"
        ),
        (true, false) => println!("{handle} was already suspended"),
        (false, true) => {
            println!("reinstated {handle}: it can sign in again; its followers' servers will be told")
        }
        (false, false) => println!("{handle} was not suspended"),
    }
    Ok(())
}

/// `admin move USER TARGET`. The `Move` and `Update` are queued in the
/// database; the running server's delivery workers send them.
async fn move_account(config: Config, user: String, target: String) -> Result<(), String> {
    let (data, actor) = local_person(config, &user).await?;
    let moved = service::moves::move_account(&data, &actor, &target)
        .await
        .map_err(|e| e.safe_message().to_string())?;
    println!(
        "moved @{}@{} to {}: its followers' servers will be told",
        actor.username,
        data.urls.domain(),
        moved.ap_id
    );
    Ok(())
}

async fn federation(config: Config, command: Federation) -> Result<(), String> {
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    let policy = service::policy::set;
    match command {
        Federation::Allow { domain } => {
            let domain = policy(&db, &domain, PolicyAction::Allow)
                .await
                .map_err(|e| e.to_string())?;
            println!("allowed {domain}");
        }
        Federation::Block { domain } => {
            let domain = policy(&db, &domain, PolicyAction::Block)
                .await
                .map_err(|e| e.to_string())?;
            println!("blocked {domain}");
        }
        Federation::Unblock { domain } => {
            let domain = service::policy::remove(&db, &domain)
                .await
                .map_err(|e| e.to_string())?;
            println!("removed the entry for {domain}");
        }
        Federation::List => {
            let mode = service::policy::mode(&db, config.federation.policy)
                .await
                .map_err(|e| e.to_string())?;
            println!("policy: {mode:?}");
            for entry in service::policy::list(&db)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}\t{}", entry.action, entry.domain);
            }
        }
    }
    Ok(())
}

async fn partners(config: Config, command: Partners) -> Result<(), String> {
    // Check the host before touching the database.
    if let Partners::Add { host } | Partners::Remove { host } = &command {
        service::partners::normalize_host(host).map_err(|e| e.to_string())?;
    }
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    match command {
        Partners::Add { host } => {
            let host = service::partners::add(&db, &host, None)
                .await
                .map_err(|e| e.to_string())?;
            println!("{host} is a partner");
        }
        Partners::Remove { host } => {
            let host = service::partners::remove(&db, &host)
                .await
                .map_err(|e| e.to_string())?;
            println!("{host} is no longer a partner");
        }
        Partners::List => {
            for partner in service::partners::list(&db)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}", partner.host);
            }
        }
    }
    Ok(())
}

async fn deliveries(
    config: Config,
    host: Option<String>,
    revive: Option<String>,
) -> Result<(), String> {
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(host) = revive {
        let revived = service::deliveries::revive_host(&db, host.clone())
            .await
            .map_err(|e| e.to_string())?;
        if revived {
            println!("revived {host}: its queued deliveries are due now");
        } else {
            println!("{host} was not failing; nothing to revive");
        }
        return Ok(());
    }
    let overview = service::deliveries::overview(&db, host.clone())
        .await
        .map_err(|e| e.to_string())?;
    if overview.hosts.is_empty() {
        match host {
            Some(host) => println!("no deliveries to {host}"),
            None => println!("no deliveries"),
        }
        return Ok(());
    }
    let fmt_time = |t: Option<chrono::NaiveDateTime>| {
        t.map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    println!(
        "{:<40} {:>8} {:>10} {:>8}  {:<16} {:<16}",
        "HOST", "PENDING", "DELIVERED", "FAILED", "FAILING SINCE", "UNREACHABLE SINCE"
    );
    for h in &overview.hosts {
        println!(
            "{:<40} {:>8} {:>10} {:>8}  {:<16} {:<16}",
            h.host,
            h.queued,
            h.delivered,
            h.failed,
            fmt_time(h.failing_since),
            fmt_time(h.unreachable_since),
        );
    }
    if !overview.recent_failures.is_empty() {
        println!();
        println!("recent failures:");
        for d in &overview.recent_failures {
            println!(
                "  {} {} after {} attempt(s): {}",
                d.updated_at.format("%Y-%m-%d %H:%M"),
                d.inbox_url,
                d.attempts,
                d.last_error.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

async fn create_community(
    config: Config,
    name: String,
    owner: String,
    approval: bool,
    members_only: bool,
    posting: String,
    icon: Option<String>,
) -> Result<(), String> {
    service::accounts::normalize_name(&name).map_err(|e| e.to_string())?;
    let posting = Posting::parse(&posting)
        .ok_or_else(|| format!("--posting: `{posting}` is not members, anyone or moderators"))?;
    let db = startup::open_database(&config)
        .await
        .map_err(|e| e.to_string())?;
    let urls = Urls::new(config.scheme(), &config.instance.domain).map_err(|e| e.to_string())?;
    let owner = service::accounts::local_person(&db, &owner)
        .await
        .map_err(|_| format!("no local user named `{owner}`"))?;
    let group = service::communities::create(
        &db,
        &urls,
        service::communities::NewCommunity {
            name: &name,
            owner: &owner,
            display_name: None,
            summary: None,
            approval,
            members_only,
            posting,
            icon,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "created community @{}@{} ({}), moderated by @{}",
        group.username,
        urls.domain(),
        group.ap_id,
        owner.username
    );
    Ok(())
}
