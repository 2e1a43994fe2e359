//! `demo`: the whole cycle in a throwaway repository.

/// Runs `git par demo`.
pub fn run(
    _args: &crate::cli::DemoArgs,
    _inputs: &super::Inputs,
    _ui: &crate::output::Ui,
) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par demo` is not implemented yet").into())
}
