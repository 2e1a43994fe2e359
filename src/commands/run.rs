/// Runs `git par run`.
pub fn run(_args: &crate::cli::RunArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par run` is not implemented yet").into())
}
