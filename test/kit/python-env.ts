import { spawnSync } from 'node:child_process';
import { requireService } from '../support/app.js';

/** Debian's Python, not a pyenv one earlier on PATH: the packages the kit is tested with are Debian's. */
export const PYTHON = '/usr/bin/python3';

const available = spawnSync(PYTHON, ['-c', 'import fastapi, jwt, httpx, pytest, uvicorn'], { stdio: 'ignore' }).status === 0;

/** Skipped with a one-line reason locally, failed under CI=true (where .ci/run installs them). */
export const pythonSkip = requireService(available, "Debian's python3-fastapi, python3-jwt, python3-httpx, python3-pytest and python3-uvicorn").skip;
