//! The `expedientes` binary: see `expedientes --help`.

fn main() -> std::process::ExitCode {
    expedientes_api::cli::main()
}
