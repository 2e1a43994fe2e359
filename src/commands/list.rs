/// Runs `git par list`.
pub fn list(_args: &crate::cli::ListArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par list` is not implemented yet").into())
}

/// Runs `git par show`.
pub fn show(_args: &crate::cli::ShowArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par show` is not implemented yet").into())
}

/// Runs `git par ready`.
pub fn ready(_args: &crate::cli::ReadyArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par ready` is not implemented yet").into())
}
