/// Runs `git par finish`.
pub fn run(_args: &crate::cli::FinishArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par finish` is not implemented yet").into())
}
