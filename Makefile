# 两个命令完成全部准备：`make demo` 跑示例数据的主流程，`make test` 跑全部测试。
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := $(wildcard src tests bench scripts)

.PHONY: demo test lint check sysdeps bench picture clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[portal]' -r requirements-dev.txt
	touch $(STAMP)

## 安装 LibreOffice 等系统软件（需要 root，Debian/Ubuntu）。缺少时相关测试会跳过并说明原因。
sysdeps:
	@if command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then echo "LibreOffice 已安装"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-noto-cjk >/dev/null; \
	else echo "提示：未安装 LibreOffice，真实电子表格测试将跳过。"; fi

## 主流程：在示例数据上运行（结果写入 demo-out/）。
demo: $(STAMP)
	$(BIN)/python scripts/demo.py demo-out

## 全部测试（含 LibreOffice 实测）、代码风格与类型检查。
test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache
