// Preloaded into the dev L1 process (`node --import`): exits when the process that started it is
// gone, so a test worker killed with SIGKILL never leaves a node running.
const parent = Number(process.env.DSEQ_DEVL1_PARENT_PID);

function parentAlive(): boolean {
  try {
    process.kill(parent, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

if (Number.isInteger(parent) && parent > 0) {
  setInterval(() => {
    if (!parentAlive()) process.exit(0);
  }, 500).unref();
}
