/// Runs `git par plan`.
pub fn run(_args: &crate::cli::PlanArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par plan` is not implemented yet").into())
}
