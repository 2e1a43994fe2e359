fn main() {
    std::process::exit(git_par::main_with_args(std::env::args_os()));
}
