/// Runs `git par tmux`.
pub fn run(_args: &crate::cli::TmuxArgs, _cx: &super::Context) -> anyhow::Result<()> {
    Err(crate::error::Refusal::failed("`git par tmux` is not implemented yet").into())
}
