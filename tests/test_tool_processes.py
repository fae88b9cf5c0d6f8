"""The harness that runs tools/ scripts in forked processes
(tests/tool_processes.py) gives what ``python script.py`` gives: the exit
status, stdout and stderr apart, the environment, no preloaded mmropim,
and a kill on timeout after which the next run still works."""
import subprocess
import sys

import pytest

from tool_processes import run_script

SCRIPT = '''import os, sys
print('out', os.environ.get('PROBE'), 'mmropim' in sys.modules)
print('err', file=sys.stderr)
action = sys.argv[1]
if action == 'exit':
    sys.exit(int(sys.argv[2]))
if action == 'message':
    raise SystemExit('stopped by message')
if action == 'raise':
    raise ValueError('bad value 7')
if action == 'sleep':
    import time
    time.sleep(60)
'''


@pytest.fixture
def script(tmp_path):
    path = tmp_path / 'probe.py'
    path.write_text(SCRIPT)
    return str(path)


def both(script, tmp_path, *args, env=None):
    """The harness's result and a fresh interpreter's, same command."""
    forked = run_script([script, *args], str(tmp_path), env)
    fresh = subprocess.run([sys.executable, script, *args], cwd=tmp_path,
                           env=env, capture_output=True, text=True)
    return forked, fresh


@pytest.mark.parametrize('args,status', [(('none', ), 0),
                                         (('exit', '3'), 3),
                                         (('message', ), 1),
                                         (('raise', ), 1)])
def test_status_and_streams_as_a_fresh_interpreter(script, tmp_path, args,
                                                   status):
    forked, fresh = both(script, tmp_path, *args,
                         env={'PROBE': 'seen', 'PATH': '/usr/bin:/bin'})
    assert forked.returncode == fresh.returncode == status
    assert forked.stdout == fresh.stdout == 'out seen False\n'
    assert forked.stderr.startswith('err\n')
    assert forked.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1]


def test_a_timeout_kills_the_run_and_the_next_run_works(script, tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        run_script([script, 'sleep'], str(tmp_path), timeout=3)
    assert run_script([script, 'exit', '2'], str(tmp_path)).returncode == 2
