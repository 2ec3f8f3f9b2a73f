//! `handover`: the command line of the handover library — `probe` times
//! every layer and proxy hop of a connection setup, `relay` carries stdio
//! (or local clients) over it, `ws` speaks WebSocket on stdio, `plan`
//! shows the layer stack without touching the network, `exporter` answers
//! Prometheus' blackbox-style scrapes. A thin user of the library's API:
//! every connection decision is the library's.
#![forbid(unsafe_code)]

mod args;
mod attempt;
mod chain;
mod config;
mod exporter;
mod hops;
mod password;
mod plan;
mod probe;
mod relay;
mod render;
mod slo;
mod ssh_config;
mod stats;
mod target;
mod trace;
mod ws;

use clap::{CommandFactory, FromArgMatches};

use args::{ChainArgs, Cli, Command, PlanFormat};

fn main() {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let users = matches
        .subcommand()
        .filter(|(name, _)| matches!(*name, "probe" | "plan" | "ws" | "relay"))
        .map(|(_, sub)| ChainArgs::user_positions(sub))
        .unwrap_or_default();
    if let Err(e) = trace::refuse_stdout(&cli.command) {
        eprintln!("handover: {e}");
        std::process::exit(2);
    }
    let code = match cli.command {
        Command::Probe(args) => probe::run(args, users),
        Command::Relay(args) => relay::run(args, users),
        Command::Plan(args) => run_plan(args, users),
        Command::Exporter(args) => exporter::run(args),
        Command::SshConfig(args) => ssh_config::run(&args, std::env::args().collect()),
        Command::Ws(args) => ws::run(args, users),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "handover", &mut script);
            print_all(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => print_all(&page),
                Err(e) => {
                    eprintln!("handover: {e}");
                    23
                }
            }
        }
    };
    std::process::exit(code);
}

/// Writes `bytes` to stdout: 0, also when the reader left early (`| head`
/// closes the pipe, which is no error of ours), else curl's 23.
fn print_all(bytes: &[u8]) -> i32 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("handover: writing to stdout: {e}");
            23
        }
    }
}

fn run_plan(args: args::PlanArgs, users: Vec<(String, Option<usize>)>) -> i32 {
    let target = match target::parse(&args.target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("handover: {e}");
            return 3;
        }
    };
    let chain = match chain::Chain::new(args.chain, users, false) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("handover: {e}");
            return 2;
        }
    };
    let planned = chain
        .easy(&target)
        .map_err(plan::PlanError::from)
        .and_then(|easy| plan::plan(&chain, &target, &easy));
    match planned {
        Ok(p) => {
            match args.format {
                PlanFormat::Text => print!("{}", p.to_text(&chain)),
                PlanFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&p.to_json(&chain)).unwrap_or_default()
                ),
            }
            0
        }
        Err(e) => {
            eprintln!("handover: {}", e.message);
            e.code as i32
        }
    }
}
