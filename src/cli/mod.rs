//! The `herald` command line: argument parsing and dispatch. Each subcommand lives in its
//! own module and returns a [`CliError`] that `main` prints in one line.

mod offline;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::sources::Format;

#[derive(Parser, Debug)]
#[command(name = "herald", version, about = "Election-night results for Discord", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay the bundled demo election and print each announcement (the default).
    Demo(DemoArgs),
    /// Show one constituency's result.
    Result(ResultArgs),
    /// Show the state of the parties.
    Seats(SeatsArgs),
    /// Compute every figure for a results file against a baseline.
    Compute(ComputeArgs),
}

#[derive(Args, Debug, Default)]
pub struct DemoArgs {
    /// Display timezone for declaration times.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
}

/// Where results come from; without `--results`, the bundled demo.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Results file (default: the bundled demo election).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Format of the results file.
    #[arg(long, value_enum, default_value_t = Format::HeraldJson)]
    pub format: Format,
    /// HoC constituency file, paired with a HoC candidate file.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    /// Baseline (previous election) file.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Format of the baseline file (default: that of the results).
    #[arg(long, value_enum)]
    pub baseline_format: Option<Format>,
    /// HoC constituency file of the baseline.
    #[arg(long)]
    pub baseline_constituencies: Option<PathBuf>,
    /// Party registry (default: the bundled config/parties.toml).
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// Display timezone for declaration times.
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
}

#[derive(Args, Debug)]
pub struct ResultArgs {
    /// Constituency name (typos and missing accents are forgiven).
    pub name: String,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct SeatsArgs {
    /// Print the tally as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct ComputeArgs {
    /// Format of the results file.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Results file.
    #[arg(long)]
    pub results: PathBuf,
    /// HoC constituency file, paired with a HoC candidate file.
    #[arg(long)]
    pub constituencies: Option<PathBuf>,
    /// Baseline (previous election) file.
    #[arg(long)]
    pub baseline: PathBuf,
    /// Format of the baseline file (default: that of the results).
    #[arg(long, value_enum)]
    pub baseline_format: Option<Format>,
    /// HoC constituency file of the baseline.
    #[arg(long)]
    pub baseline_constituencies: Option<PathBuf>,
    /// Party registry (default: the bundled config/parties.toml).
    #[arg(long)]
    pub parties: Option<PathBuf>,
    /// One JSON object per line per constituency, then one for the nation.
    #[arg(long)]
    pub json: bool,
    /// Display timezone for declaration times (text output).
    #[arg(long, default_value = "Europe/London")]
    pub tz: String,
}

/// A failed command: the message printed, and the exit code.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::new(e.to_string())
    }
}

/// Parses the arguments, runs the command, and turns failure into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command.unwrap_or(Command::Demo(DemoArgs {
        tz: "Europe/London".into(),
    })) {
        Command::Demo(a) => offline::demo(&a),
        Command::Result(a) => offline::result(&a),
        Command::Seats(a) => offline::seats(&a),
        Command::Compute(a) => offline::compute(&a),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
