/// Runs `git par lock-status`.
pub fn run(_args: &crate::cli::LockStatusArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par lock-status` is not implemented yet").into())
}
