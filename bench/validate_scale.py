"""How `plivo-node validate` scales with the number of steps: time per phase, side by side.

    python bench/validate_scale.py 5000 10000 20000

Each phase is timed on its own: YAML reading, the pipeline schema, the spec (step-name
check included), and build_steps (the resolver and the static-check pass). Linear phases
double their time when the steps double; the figures are printed, never asserted (see
tests/test_pipeline_checks.py for the counted-work test). Every step but the first has the
same expressions (compiled once): a distinct expression per step adds its Jinja compile,
about 4 ms, to each step.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from plivo_node.description import validate_against_schema
from plivo_node.description.yaml_source import read_yaml_text
from plivo_node.run.pipeline import _spec_from_data, build_steps, repeated_names
from plivo_node.run.registry import NodeRegistry

STEP = """  - name: step {n}
    node: plivo
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: "=Hi {{{{ {read} }}}}"
"""


def pipeline_text(count: int) -> str:
    return "version: 1\nsteps:\n" + "".join(
        STEP.format(n=n, read="$('step 0').item.json.to" if n else "$json.name")
        for n in range(count)
    )


def measure(count: int) -> dict[str, float]:
    registry = NodeRegistry()
    registry.get("plivo")  # loaded outside the measurement, as the description was
    text = pipeline_text(count)
    times: dict[str, float] = {}
    start = time.perf_counter()
    data, problems = read_yaml_text(text)
    times["yaml"] = time.perf_counter() - start
    assert not problems
    start = time.perf_counter()
    assert validate_against_schema(data, "pipeline", "bench") == []
    times["schema"] = time.perf_counter() - start
    start = time.perf_counter()
    assert repeated_names(s["name"] for s in data["steps"]) == []
    spec = _spec_from_data(data, source="bench", base_dir=Path())
    times["spec"] = time.perf_counter() - start
    start = time.perf_counter()
    build_steps(spec, registry)
    times["build+checks"] = time.perf_counter() - start
    return times


def main(counts: list[int]) -> None:
    NodeRegistry().get("plivo")  # the first load (imports, YAML) is not the pipeline's cost
    print(
        f"{'steps':>7} "
        + " ".join(f"{p:>13}" for p in ("yaml", "schema", "spec", "build+checks", "total"))
    )
    for count in counts:
        times = measure(count)
        figures = [*times.values(), sum(times.values())]
        print(f"{count:>7} " + " ".join(f"{t:>12.2f}s" for t in figures))


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [5000, 10000, 20000])
