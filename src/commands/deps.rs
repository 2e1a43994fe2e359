/// Runs `git par deps`.
pub fn run(_args: &crate::cli::DepsArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par deps` is not implemented yet").into())
}
