/// Runs `git par doctor`.
pub fn run(_args: &crate::cli::DoctorArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par doctor` is not implemented yet").into())
}
