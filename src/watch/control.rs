//! Operators' requests to the watcher (`/retract`): carried out between two polls by the
//! watcher itself, the one writer of declarations, so that they never race the feed.

use tokio::sync::{mpsc, oneshot};

use super::Watcher;
use crate::core::model::ConstituencyId;
use crate::store::StoredEvent;

/// What an operator asks of the watcher, the one writer of declarations.
pub(super) enum Request {
    /// Withdraw a seat's declaration (`/retract`), on behalf of `by`.
    Retract {
        id: ConstituencyId,
        by: String,
        reply: oneshot::Sender<Result<StoredEvent, String>>,
    },
}

/// A handle for operators' requests to the watcher (`/retract`): cheap to clone; each
/// request is carried out between two polls, so it never races the feed.
#[derive(Clone)]
pub struct Control {
    pub(super) tx: mpsc::Sender<Request>,
}

impl Control {
    /// Withdraws the declaration of `id` and announces the retraction; `by` names who asked
    /// (logged). Refused if the seat has no standing declaration.
    pub async fn retract(&self, id: ConstituencyId, by: String) -> Result<StoredEvent, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Retract { id, by, reply })
            .await
            .map_err(|_| "herald is stopping: nothing was changed".to_string())?;
        answer
            .await
            .map_err(|_| "herald is stopping: nothing was changed".to_string())?
    }
}

impl Watcher {
    /// Carries out an operator's request.
    pub(super) async fn serve(&mut self, request: Request) {
        match request {
            Request::Retract { id, by, reply } => {
                let answer = self.retract(&id, &by).await;
                let _ = reply.send(answer);
            }
        }
    }

    async fn retract(&mut self, id: &ConstituencyId, by: &str) -> Result<StoredEvent, String> {
        use crate::core::changes::{Change, Difference, EventKind};
        use crate::core::model::DeclarationStatus as S;
        // The board holds the seats whose declaration stands (a withdrawn one is off it).
        let standing = self.board.read().get(id).map(|e| e.declaration.clone());
        let Some(old) = standing.filter(|d| d.status != S::Withdrawn) else {
            return Err("that seat has no declaration standing: nothing to withdraw".into());
        };
        let mut gone = old.clone();
        gone.status = S::Withdrawn;
        let change = Change {
            kind: EventKind::Retracted,
            differences: vec![Difference::Status {
                from: old.status,
                to: S::Withdrawn,
            }],
            declaration: gone,
        };
        let recorded = self
            .store
            .record(std::slice::from_ref(&change), &[], self.config.sinks)
            .await
            .map_err(|e| format!("nothing was withdrawn: {e}"))?;
        tracing::warn!(
            constituency = %id,
            name = %change.declaration.result.constituency.name,
            by,
            "declaration withdrawn by an operator"
        );
        let turns = self.publish(&recorded);
        self.record_milestones(turns).await;
        recorded
            .events
            .into_iter()
            .next()
            .ok_or_else(|| "nothing was recorded".to_string())
    }
}
