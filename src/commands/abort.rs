/// Runs `git par abort`.
pub fn run(_args: &crate::cli::AbortArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par abort` is not implemented yet").into())
}
