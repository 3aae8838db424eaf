//! The integration tests, built as one test binary (like ripgrep's
//! `tests/tests.rs`): `cargo test --test tests`.
//!
//! - `cli`: the `civility` binary, run through `util::TestEnv`, one file
//!   per subcommand (with the `cli` feature, which builds the binary);
//! - `model_file`: the model file format, through the library;
//! - `library`: the public API from outside the crate;
//! - `golden`: verdicts on `training-data/validation.jsonl`, pinned in
//!   `tests/data/golden-*.jsonl` (re-bless with `CIVILITY_BLESS=1`);
//! - `training_data`: the format of `training-data/groups*.jsonl`, and no
//!   text shared between our labelled files.
//!
//! Nothing here reads `../shared`: the tests train their models from
//! `training-data/` with the configurations in `tests/data/`.

// Without the binary, the helpers that run it or check its output go unused.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
mod util;

// The binary is built with the `cli` feature only.
#[cfg(feature = "cli")]
mod cli;
mod golden;
mod library;
mod model_file;
mod properties;
mod regression;
mod robustness;
mod training_data;

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;
