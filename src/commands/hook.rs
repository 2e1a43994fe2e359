/// Runs `git par hook`.
pub fn run(_args: &crate::cli::HookArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par hook` is not implemented yet").into())
}
