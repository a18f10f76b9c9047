"""`python -m services.reporting`: the worker and the API on 127.0.0.1:8004.

`python -m services.reporting rebuild` replays the topics into a fresh projection, then
switches to it: what `bilan reporting rebuild` runs, in a process of its own, so that the
deployment tooling imports no service.
"""

from __future__ import annotations

import asyncio

import click


@click.group(invoke_without_command=True)
@click.pass_context
def main(context: click.Context) -> None:
    """The reporting service: without a command, the worker and its API."""
    if context.invoked_subcommand is not None:
        return
    from shared.serve import serve

    from .bootstrap import create_app
    from .settings import Settings

    settings = Settings()
    serve(create_app(settings), settings)


@main.command("rebuild")
def rebuild() -> None:
    """Replay the topics from the beginning into a fresh projection, then switch to it."""
    from .rebuild import rebuild as replay
    from .settings import Settings

    async def run() -> None:
        bar_holder: dict[str, object] = {}

        def on_total(total: int) -> None:
            bar = click.progressbar(length=max(total, 1), label="Replaying events")
            bar.__enter__()
            bar_holder["bar"] = bar

        def progress(done: int) -> None:
            bar = bar_holder.get("bar")
            if bar is not None:
                bar.update(done)  # type: ignore[attr-defined]

        try:
            result = await replay(Settings(), on_total=on_total, progress=progress)
        finally:
            bar = bar_holder.get("bar")
            if bar is not None:
                bar.__exit__(None, None, None)  # type: ignore[attr-defined]
        click.echo(
            f"switched to {result.generation} (was {result.previous}): {result.events} events, "
            f"{result.undecodable} undecodable, {result.rate:,.0f} events/s"
        )

    asyncio.run(run())


# Guarded: the rebuild's helper processes are spawned, and a spawned process imports the
# parent's main module again (as `__mp_main__`); it must not start a service or a rebuild.
if __name__ == "__main__":
    main(prog_name="python -m services.reporting")
