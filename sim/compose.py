"""The composition root: a scenario file, its configuration and protections, the model
and the recorder wired into one recorded run.

`prepare` loads and checks everything a run needs before anything is written;
`record_run` runs it into an event database. `sim.api` (the notebook API) and `run.py`
(the command line) both go through these two functions, so they run alike.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import traceback
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from domain.config import PRESETS, Config, ConfigError, resolve
from domain.limits import MAX_INT
from domain.protections.base import Protection
from domain.protections.mutants import Mutant
from domain.protections.registry import BUILTIN, Registry, custom_row
from domain.scenario import Scenario
from sim.load.config_section import check_setting, parse_setting
from sim.load.custom import load_custom_protection
from sim.load.document import load_scenario
from sim.load.yaml_nodes import Invalid, parse_int
from sim.run.db_path import db_path_problem
from sim.run.dbfile import close_writer
from sim.run.model import BulwarkModel
from sim.run.recorder import Recorder, allocate_run_id, open_db, run_id_prefix
from sim.run.signals import RunInterrupted, exit_code, signals_deferred, stop_signals_raise
from sim.run.step_writer import RecordingError

EXIT_OK, EXIT_FAILED_CHECKS, EXIT_INVALID, EXIT_CRASH = 0, 1, 2, 3
#: Quitting the step-through before its last step: the run is stopped as by Ctrl-C.
EXIT_QUIT = exit_code(signal.SIGINT)
QUIT_REASON = "quit from the step-through"


class InvalidInput(ValueError):
    """Bad run input other than the scenario file (a seed, preset, setting or database
    path; on the command line also a flag): exit code 2, nothing written. The message is
    what the command line prints."""


def run_registry(
    scenario: Scenario, registry: Registry = BUILTIN, *, without: Collection[str] = ()
) -> Registry:
    """The protections of a run: every row of `registry` the scenario does not switch off
    (`protections.<name>.enabled: false`), plus a row per enabled custom protection, less
    the protections named in `without` (switched off for this run, as `enabled: false`
    would; `check_without` refuses a name that is not one of them)."""
    off = [name for name in registry.names if not scenario.protections.is_enabled(name)]
    custom = [
        custom_row(spec.name, load_custom_protection(spec, scenario), spec.priority, spec.options)
        for spec in scenario.protections.custom
        if spec.enabled
    ]
    return registry.without(off).with_rows(custom).without(without)


def check_without(scenario: Scenario, without: Collection[str]) -> None:
    """InvalidInput (`without: ...`) when a name of `without` is not a protection of the
    run of `scenario` (`run_registry`): unknown, or already switched off in the file."""
    names = run_registry(scenario).names
    unknown = [name for name in without if name not in names]
    if unknown:
        raise InvalidInput(
            f"without: {', '.join(map(repr, unknown))} is not a protection of this run"
            f" (its protections: {', '.join(names) or 'none'})"
        )


def make_protections(
    scenario: Scenario, config: Config, registry: Registry = BUILTIN
) -> list[Protection]:
    """The protections of a run (`run_registry`), by priority. One whose configuration
    switch (`enable_core_asset_management`, `whipsaw_protection`) is off still runs, as an
    agent that abstains until a `set` switches it on (docs/protections.md)."""
    return run_registry(scenario, registry).build(config)


def resolve_run_config(
    scenario: Scenario, *, preset: str | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Defaults, then the preset (the given one, else the scenario's), then the scenario's
    `config`, then `overrides` ({registry name: value}, e.g. from `check_overrides`).

    Raises:
        InvalidInput: an unknown preset, or a configuration the registry refuses
            (`--preset: ...` or, with overrides, `--set: ...`).
    """
    check_preset(preset)
    layered = {**scenario.config, **(overrides or {})}
    try:
        return resolve(preset or scenario.preset, layered).config
    except ConfigError as err:
        where = "--set" if overrides else "--preset"
        raise InvalidInput(f"{where}: {'; '.join(i.message for i in err.issues)}") from None


def check_preset(preset: str | None) -> None:
    """InvalidInput when `preset` is neither None nor a known preset."""
    if preset is not None and preset not in PRESETS:
        known = ", ".join(sorted(PRESETS))
        raise InvalidInput(f"--preset {preset}: unknown preset '{preset}' (known: {known})")


def parse_seed(text: str) -> int:
    """A `--seed` text by the file's rule: an integer in [0, 2**63 - 1].

    Raises:
        InvalidInput: with the message.
    """
    try:
        value = parse_int(text.strip())
    except Invalid as err:
        raise InvalidInput(f"--seed: {err}") from None
    return check_seed(value, shown=text.strip())


def parse_count(text: str, option: str, maximum: int) -> int:
    """A count option's text (`--jobs`, `--workers`) by the file's integer rule, in [1, maximum].

    Raises:
        InvalidInput: naming `option`.
    """
    try:
        value = parse_int(text.strip())
    except Invalid as err:
        raise InvalidInput(f"{option}: {err}") from None
    if not 1 <= value <= maximum:
        raise InvalidInput(f"{option}: must be in [1, {maximum}], got {value}")
    return value


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """`--set name=value` texts as {registry name: value}, each read by the file's rules
    (`sim.load.config_section.parse_setting`); a later one wins.

    Raises:
        InvalidInput: `--set ITEM: message` for the first bad one.
    """
    values: dict[str, Any] = {}
    for item in items:
        try:
            name, value = parse_setting(item)
        except ValueError as err:
            raise InvalidInput(f"--set {item}: {err}") from None
        values[name] = value
    return values


def check_seed(value: Any, *, shown: str | None = None) -> int:
    """`value` when it is an integer seed in [0, 2**63 - 1] (`shown`: how to name it).

    Raises:
        InvalidInput: not an integer (a bool is not), or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"--seed: expected an integer, got {value!r}")
    if not 0 <= value <= MAX_INT:
        raise InvalidInput(f"--seed: must be in [0, {MAX_INT}], got {shown or value}")
    return value


def check_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each setting of `overrides` by itself (`check_setting`): {registry name: canonical
    value}.

    Raises:
        InvalidInput: `--set name=value: message` for the first bad one, as the command
            line reports `--set name=value`.
    """
    checked: dict[str, Any] = {}
    for name, value in (overrides or {}).items():
        try:
            key, checked_value = check_setting(str(name), value)
        except ValueError as err:
            raise InvalidInput(f"--set {name}={_setting_text(value)}: {err}") from None
        checked[key] = checked_value
    return checked


def _setting_text(value: Any) -> str:
    """A value as `--set name=value` would spell it (`true`, not `True`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def check_db(db_path: str | Path) -> None:
    """InvalidInput when a run cannot use `db_path` as its event database."""
    problem = db_path_problem(db_path)
    if problem is not None:
        raise InvalidInput(f"--db {db_path}: {problem}")


def prepare(
    path: str | Path,
    *,
    seed: int | None = None,
    preset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Scenario, Config]:
    """Load and check everything before anything is written: the file, its market as the
    run with `seed` will build it, the configuration and custom protections.

    Returns:
        (scenario, configuration).

    Raises:
        ScenarioError: the file (`file:line: field: message`).
        InvalidInput: the seed, preset or overrides, as `<path>: --option ...: message`.
    """
    try:
        seed = None if seed is None else check_seed(seed)
        checked = check_overrides(overrides)
        check_preset(preset)
        scenario = load_scenario(path, seed=seed)
        config = resolve_run_config(scenario, preset=preset, overrides=checked)
    except InvalidInput as err:
        raise InvalidInput(f"{path}: {err}") from None
    make_protections(scenario, config)  # custom protections import before anything is written
    return scenario, config


def build_model(
    scenario: Scenario,
    config: Config,
    *,
    seed: int | None = None,
    recorder: Recorder | None = None,
    registry: Registry = BUILTIN,
    without: Collection[str] = (),
    mutant: Mutant | None = None,
) -> BulwarkModel:
    """A ready-to-run model of `scenario` (the one place protections and model meet), with
    the protections of `registry` (the built-ins unless given) less those in `without`
    (`run_registry`), and `mutant` switched in (`Mutant.apply`; `run.py mutate`)."""
    rows = run_registry(scenario, registry, without=without)
    if mutant is not None:
        rows = mutant.apply(rows)
    return BulwarkModel(
        scenario,
        config,
        rows.build(config),
        seed=scenario.seed if seed is None else seed,
        recorder=recorder,
        registry=rows,
    )


def next_run_id(db: Any, scenario: Scenario, seed: int) -> str:
    """`<scenario>-s<seed>-<nnn>`: one more than the highest nnn of that scenario and seed in
    this database. `record_run` allocates it in the transaction that inserts the runs
    row (`Recorder.start_run`), so concurrent runs never share an id."""
    return allocate_run_id(db, run_id_prefix(scenario.name, seed))


def record_run(
    scenario: Scenario,
    config: Config,
    *,
    seed: int | None = None,
    db_path: str | Path,
    step: Console | None = None,
    follow: str | None = None,
    without: Collection[str] = (),
    mutant: Mutant | None = None,
    writer_process: bool | None = None,
) -> tuple[str, int, BulwarkModel | None]:
    """Run `scenario` into the event DB at `db_path`. Returns (run_id, exit code, model):
    the code is 0 (finished; the checks are not run here), 3 (crashed), or 130 / 143.

    `without` names protections of the run to switch off (`run_registry`; an ablation),
    `mutant` is a broken rule to switch in (`build_model`); the runs row records neither
    (the scenario's file and sha256 are the file's). `writer_process` commits the steps in
    a writer process (True) or here (False); None decides by the run's size and place
    (`WRITER_PROCESS_FROM`). Either way the file holds the same rows; a step-through always
    commits here.

    With `step` (a console), the run is stepped through in the terminal; quitting early
    marks the run `interrupted`, complete up to the last finished step (exit code
    `EXIT_QUIT`, 130, as for Ctrl-C; its checks are not run). SIGINT and SIGTERM also mark
    it `interrupted` (exit code 130 or 143, `sim.run.signals`); one that arrives before the
    runs row is written waits for it, so the database always has the row. The run's
    database connection is closed on return (the file is then self-contained).
    """
    seed = scenario.seed if seed is None else seed
    with stop_signals_raise(), contextlib.ExitStack() as deferred:
        deferred.enter_context(signals_deferred())
        recorder = Recorder(open_db(db_path))
        recorder.start_run(
            scenario=scenario.name,
            scenario_path=scenario.path,
            scenario_sha256=scenario.sha256,
            seed=seed,
            initial_cash=scenario.cash,
            config=config.to_dict(),
        )
        try:
            code, model = _record(
                recorder,
                scenario,
                config,
                seed,
                step,
                follow,
                without,
                mutant,
                writer_process,
                deferred.close,
            )
        finally:
            with contextlib.suppress(RecordingError):
                recorder.drain()  # a no-op unless an exception got past _record
            close_writer(recorder.db)
        return str(recorder.run_id), code, model


WRITER_PROCESS_FROM = 10_000
"""A run of at least this many asset-days (simulated days times tickers), not stepped
through and not in a worker of a process pool, commits its steps in a writer process
(`Recorder.write_in_background`); a smaller one commits them in-process (at 8 × 250 the two
ways take the same time; at 8 × 1,000 the writer process saves 17 %: bench/README.md)."""


def _writer_process_pays(model: BulwarkModel) -> bool:
    """Whether a writer process shortens this run: it is large, and it does not run in a
    worker of a pool (`run.py DIR --jobs N`, sweeps, ablations), whose runs already fill the
    cores and would only pay the writer's extra CPU (pickling, index upkeep: about 19 %)."""
    size = len(model.sim_dates) * len(model.market.tickers)
    return size >= WRITER_PROCESS_FROM and multiprocessing.parent_process() is None


def _record(
    recorder: Recorder,
    scenario: Scenario,
    config: Config,
    seed: int,
    step: Console | None,
    follow: str | None,
    without: Collection[str],
    mutant: Mutant | None,
    writer_process: bool | None,
    resume_signals: Callable[[], object],
) -> tuple[int, BulwarkModel | None]:
    """Build and run the model into a started run; mark how it ended. (exit code, model)

    `resume_signals()` ends the deferral of SIGINT and SIGTERM while the run started; one
    that arrived meanwhile is raised there and handled like any other.
    """
    model = None
    try:
        resume_signals()
        model = build_model(
            scenario, config, seed=seed, recorder=recorder, without=without, mutant=mutant
        )
        if step is None:
            if _writer_process_pays(model) if writer_process is None else writer_process:
                recorder.write_in_background()
            model.run()
            recorder.drain()
        else:
            from sim.read.stepper import step_through

            if not step_through(model, step, follow=follow).finished:
                return _marked(recorder, "interrupted", QUIT_REASON, EXIT_QUIT), model
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, RunInterrupted) else signal.SIGINT
        why = f"stopped by {signal.Signals(signum).name}"
        return _marked(recorder, "interrupted", why, exit_code(signum)), model
    except Exception:
        recorder.finish("failed", traceback.format_exc(limit=20))
        return EXIT_CRASH, model
    return _marked(recorder, "completed", None, EXIT_OK), model


def _marked(recorder: Recorder, status: str, error: str | None, code: int) -> int:
    """Mark the run `status`; `code`, or EXIT_CRASH when its writer process failed (and
    the run was marked failed instead)."""
    return EXIT_CRASH if recorder.finish(status, error) == "failed" else code
