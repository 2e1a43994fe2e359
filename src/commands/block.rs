/// Runs `git par block`.
pub fn block(_args: &crate::cli::BlockArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par block` is not implemented yet").into())
}

/// Runs `git par unblock`.
pub fn unblock(_args: &crate::cli::UnblockArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par unblock` is not implemented yet").into())
}
