/// Runs `git par start`.
pub fn run(_args: &crate::cli::StartArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par start` is not implemented yet").into())
}
