//! Work spread over threads, results in order: the one parallel map that
//! training, evaluation and `civility score --jsonl` use.
//!
//! Threads take items one at a time from a shared counter, so a slow item
//! holds up one thread only. Callers with many small items pass chunks
//! (`items.chunks(n)`) and flatten the results; callers that want one
//! contiguous run per thread pass one range per thread.

/// `items.iter().map(f)` on `threads` threads (0 = all cores), in order.
///
/// At most `items.len()` threads start; each takes the next item not yet
/// taken until none is left. The results come back in the order of
/// `items`, whichever thread computed them.
///
/// # Examples
///
/// ```
/// use civility::parallel::parallel_map;
///
/// let words = ["one", "three", "five"];
/// assert_eq!(parallel_map(&words, 2, |w| w.len()), [3, 5, 4]);
/// ```
///
/// # Panics
///
/// If `f` panics on a thread, with that panic, once every thread stopped.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(items.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
