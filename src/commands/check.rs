/// Runs `git par check`.
pub fn run(_args: &crate::cli::CheckArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par check` is not implemented yet").into())
}
