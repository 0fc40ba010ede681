use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The outcome of one `chanlab` invocation.
pub(crate) struct Run {
    pub(crate) status: std::process::ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `chanlab` with `args` from the repository root.
pub(crate) fn chanlab(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("the chanlab binary runs");
    Run {
        status,
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

pub(crate) fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory for one test, removed when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("chanlab-cli-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write scratch file");
        path.to_str().expect("UTF-8 temp path").to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `chanlab` with `args` from the repository root, `stdin` on its standard input.
pub(crate) fn chanlab_with_stdin(args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the chanlab binary runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let text = stdin.to_owned();
    // Written from a thread so that a command printing before it reads cannot deadlock.
    let writer = std::thread::spawn(move || pipe.write_all(text.as_bytes()));
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("chanlab ends");
    writer
        .join()
        .expect("writer thread")
        .expect("stdin written");
    Run {
        status,
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}
