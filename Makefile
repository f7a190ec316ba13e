# 两条命令即可完成全部安装 / the whole set-up: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DQ     := $(VENV)/bin/dq
DEMO   := demo_out
STAMP  := $(VENV)/.installed

.PHONY: demo test lint lab lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m toolkit.demo --out $(DEMO)

test: $(STAMP)
	$(VENV)/bin/ruff check toolkit tests expectations benchmarks
	$(VENV)/bin/ruff format --check toolkit tests expectations benchmarks
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check toolkit tests expectations benchmarks
	$(VENV)/bin/ruff format --check toolkit tests expectations benchmarks

# JupyterLab in Chinese (zh-CN language pack) on the analyst notebooks and the lessons
lab: $(STAMP)
	mkdir -p $(VENV)/share/jupyter/lab/settings
	printf '{"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}\n' \
	  > $(VENV)/share/jupyter/lab/settings/overrides.json
	$(VENV)/bin/jupyter lab --notebook-dir=.

# re-resolve the lock after changing pyproject.toml (needs uv: pip install uv)
lock:
	uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu -o requirements.lock

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
