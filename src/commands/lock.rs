/// Runs `git par lock`.
pub fn run(_args: &crate::cli::LockArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par lock` is not implemented yet").into())
}

/// Runs `git par unlock`.
pub fn unlock(_args: &crate::cli::UnlockArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par unlock` is not implemented yet").into())
}
