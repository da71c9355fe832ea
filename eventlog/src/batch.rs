//! Group commit for concurrent appends. Appends that arrive while others are being written are
//! collected and written together in one statement, sharing one commit; each caller still gets the
//! result of its own append. A batch that fails for any reason (a conflict, a replayed command id)
//! is split and each append written alone, so batching never changes an outcome: only how many
//! commits the database makes.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::append::{append, append_batch};
use crate::{AppendError, AppendRequest, Appended};

/// The most appends written in one statement.
pub const MAX_BATCH: usize = 64;
/// How many batches may be in flight at once (each holds one connection).
pub const MAX_IN_FLIGHT: usize = 2;

type Job = (
    AppendRequest,
    oneshot::Sender<Result<Appended, AppendError>>,
);

/// The handle on the batching task.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    pub(crate) fn start(runtime: &tokio::runtime::Handle, pool: PgPool) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        runtime.spawn(run(pool, queue));
        Self { jobs }
    }

    pub(crate) async fn append(
        &self,
        pool: &PgPool,
        request: AppendRequest,
    ) -> Result<Appended, AppendError> {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((request, _))) = self.jobs.send((request, reply)) {
            // The batching task is gone (its runtime ended): nothing was written; write directly.
            return append(pool, request).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(AppendError::Store(crate::StoreError::Unavailable(
                "the append's outcome is unknown: the batching task stopped".into(),
            )))
        })
    }
}

async fn run(pool: PgPool, mut queue: mpsc::UnboundedReceiver<Job>) {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        // Waiting for a free slot is what lets the next batch grow.
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let (requests, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
            let results = if requests.len() == 1 {
                let request = requests.into_iter().next().expect("one request");
                vec![append(&pool, request).await]
            } else {
                metrics::histogram!("eventlog_append_batch_size").record(requests.len() as f64);
                append_batch(&pool, requests).await
            };
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        });
    }
}
