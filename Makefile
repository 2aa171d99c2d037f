# 两个命令完成全部准备：`make demo` 跑示例数据的主流程，`make test` 跑全部测试。
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := $(wildcard src tests bench scripts)

.PHONY: demo test lint check sysdeps bench picture clean portal wheelhouse

$(STAMP): pyproject.toml requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[portal]' -r requirements-dev.txt
	touch $(STAMP)

## 安装系统软件（需要 root，Debian/Ubuntu）：LibreOffice（真实电子表格测试）、Gnumeric（提供 ssconvert：第二个
## 独立的电子表格程序，用于核对表内校验与 check 的裁决是否一致）、中文字体、chromium（收集平台的浏览器测试和截图）、
## PostgreSQL（收集平台的数据库测试）。缺少时相关测试会跳过并说明原因。
sysdeps:
	@missing=""; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui libreoffice-writer-nogui"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v ssconvert >/dev/null 2>&1 || missing="$$missing gnumeric"; \
	ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then echo "系统软件已安装"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "安装：$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "提示：未安装$$missing，相关测试将跳过。"; fi

## 主流程：在示例数据上运行（结果写入 demo-out/）。
demo: $(STAMP)
	$(BIN)/python scripts/demo.py demo-out

## 示例收集平台：在示例名册上建立实例（部分单位已上传），显示县政务公开办的地址、密码和三个单位的链接，
## 然后在 http://127.0.0.1:8000/ 运行，按 Ctrl+C 停止。
portal: $(STAMP)
	$(BIN)/python scripts/portal_demo.py portal-demo

## 全部测试（含 LibreOffice 实测、收集平台在 chromium 中的端到端测试）、代码风格与类型检查。
## 收集平台的数据库测试再在 PostgreSQL 上跑一遍（测试自己在临时文件夹里启动 PostgreSQL）。
test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -q
	XLS_GONGKAI_TEST_DB=postgresql $(BIN)/python -m pytest -q tests/portal/test_portal_flow.py tests/portal/test_portal_security.py
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## 离线安装包：把本工具和全部依赖做成一个文件夹 dist/wheelhouse（供没有互联网的单位电脑安装，
## 须在同一种操作系统、同一种 CPU、同一版本的 Python 上制作），安装方法见 README“在没有互联网的电脑上安装”。
wheelhouse: $(STAMP)
	rm -rf dist/wheelhouse
	$(BIN)/pip wheel -q --wheel-dir dist/wheelhouse '.[portal]'
	@echo "已生成 dist/wheelhouse（$$(ls dist/wheelhouse | wc -l) 个文件）。在目标电脑上：python3 -m pip install --no-index --find-links wheelhouse 'xls-gongkai[portal]'"

clean:
	rm -rf $(VENV) demo-out portal-demo .pytest_cache .mypy_cache .ruff_cache
