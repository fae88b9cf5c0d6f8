"""Run a script of ``tools/`` as its own process without paying the 5-7 s
import of the OpenMMLab stack each time: a server process imports torch,
MMEngine and MMPretrain once (not mmropim, which a tool must import
itself) and forks a child per run, which sets the run's arguments, folder
and environment, runs the script as ``__main__`` (``runpy``) and exits
with its status.

The child is a new process with the run's output in its own files, so a
crash, ``SystemExit`` or leaked state ends with it; what differs from
``python tools/x.py`` is only what the fork shares: the imported modules
(the tools import the same ones first) and the hash seed. Tests whose
subject is a process of its own (imports, kills, multi-process launches,
reproducibility across processes, environment variables read on import)
start one with ``subprocess`` instead; :func:`run_script` does so too
for such an environment variable."""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading

#: Environment variables read when the preloaded modules are imported:
#: a run that sets another value than the server's gets a fresh process.
#: (``PYTHONPATH`` is applied to the child's ``sys.path``.)
READ_ON_IMPORT = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'PYTHONHASHSEED',
                  'CUDA_VISIBLE_DEVICES', 'PYTHONDONTWRITEBYTECODE',
                  'PYTHONWARNINGS', 'PYTHONUNBUFFERED', 'PYTHONIOENCODING',
                  'PYTHONUTF8')

SERVER = r'''
import json, os, runpy, sys, tempfile, traceback
import torch, mmengine.runner, mmpretrain.models, mmpretrain.datasets
import numpy
requests, replies = sys.stdin.buffer, sys.stdout.buffer
code = None
for line in requests:
    job = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid:
        try:
            os.setpgid(pid, pid)  # before the pid is given out
        except OSError:
            pass
    else:
        os.setpgid(0, 0)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        out = os.open(job['stdout'], flags)
        err = os.open(job['stderr'], flags)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0); os.dup2(out, 1); os.dup2(err, 2)
        os.environ.clear(); os.environ.update(job['env'])
        tempfile.tempdir = None  # TMPDIR as the run sets it
        numpy.random.seed()  # not the state of every other run
        os.chdir(job['cwd'])
        script = job['argv'][0]
        sys.argv = list(job['argv'])
        extra = [p for p in job['env'].get('PYTHONPATH', '').split(
            os.pathsep) if p]
        sys.path[:] = [os.path.dirname(os.path.abspath(script))] + extra + [
            p for p in sys.path if p != '']
        try:
            runpy.run_path(script, run_name='__main__')
            code = 0
        except SystemExit as stop:
            code = stop.code
        except BaseException:
            traceback.print_exc()
            code = 1
        break
    replies.write(b'%d\n' % pid); replies.flush()
    _, status = os.waitpid(pid, 0)
    replies.write(b'%d\n' % os.waitstatus_to_exitcode(status))
    replies.flush()
if code is not None:
    sys.exit(code)
'''


class ScriptServer:
    """One preloaded server per test process (pytest-xdist workers each
    start their own), started on first use."""

    def __init__(self):
        self.env = dict(os.environ)
        # CUDA is asked about on import (MMEngine): through NVML, as the
        # CUDA runtime would not work in the forked children
        self.process = subprocess.Popen(
            [sys.executable, '-c', SERVER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=dict(self.env, PYTORCH_NVML_BASED_CUDA_CHECK='1'))
        self.lock = threading.Lock()
        self.pending = b''

    def fits(self, env):
        return all(env.get(k) == self.env.get(k) for k in READ_ON_IMPORT)

    def read_line(self, timeout):
        # os.read, not readline: a buffered reader can hold the next line
        # where select does not see it
        while b'\n' not in self.pending:
            ready, _, _ = select.select([self.process.stdout], [], [],
                                        timeout)
            if not ready:
                return None
            data = os.read(self.process.stdout.fileno(), 4096)
            if not data:
                raise RuntimeError('the script server stopped')
            self.pending += data
        line, _, self.pending = self.pending.partition(b'\n')
        return int(line)

    def run(self, argv, cwd, env, timeout):
        """``(status, stdout, stderr)`` of one run; on ``timeout`` the child is
        killed and ``subprocess.TimeoutExpired`` raised."""
        with self.lock, tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, 'stdout')
            err = os.path.join(folder, 'stderr')
            job = dict(argv=list(argv), cwd=cwd, env=env, stdout=out,
                       stderr=err)
            self.process.stdin.write(json.dumps(job).encode() + b'\n')
            self.process.stdin.flush()
            pid = None
            try:
                pid = self.read_line(600)  # the first waits for the imports
                status = pid and self.read_line(timeout)
            except BaseException:  # interrupted: no reply left unread
                status = None
                raise
            finally:
                if pid:  # what the run left (workers), or all on timeout
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if status is None:  # the replies are out of step: a new one
                    self.process.kill()
                    self.process.wait()
            if pid is None:
                raise RuntimeError('the script server did not start')
            if status is None:
                raise subprocess.TimeoutExpired(argv, timeout)
            with open(out, errors='replace') as f, open(
                    err, errors='replace') as g:
                return status, f.read(), g.read()


_server = None


def run_script(argv, cwd, env=None, timeout=900):
    """Run ``python ARGV...`` (ARGV[0] a script file) in ``cwd`` as
    ``subprocess.run(..., capture_output=True, text=True)`` would.

    Args:
        argv (list[str]): The script and its arguments.
        cwd (str): The folder it runs in.
        env (dict, optional): Its environment; this process's if None.
        timeout (float): Seconds before the run is killed.

    Returns:
        subprocess.CompletedProcess: ``returncode``, ``stdout`` and
        ``stderr``.
    """
    argv = [str(a) for a in argv]
    env = dict(os.environ if env is None else env)
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = ScriptServer()
    server = _server
    if not server.fits(env):
        return subprocess.run([sys.executable, *argv], cwd=cwd, env=env,
                              capture_output=True, text=True,
                              timeout=timeout)
    status, stdout, stderr = server.run(argv, cwd, env, timeout)
    return subprocess.CompletedProcess([sys.executable, *argv], status,
                                       stdout, stderr)
