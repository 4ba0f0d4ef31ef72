//! A monthly call budget per organisation: [`MonthlyBudget`].
//!
//! DingTalk counts an organisation's conference calls per calendar month (5,000 or 10,000 in
//! the standard edition, all its internal apps together) and refuses the rest of the month
//! with `403 Forbidden.AccessDenied.ApiCountLimitForOrg`. The client counts the requests it
//! sends (retries included, token fetches not, as DingTalk does), warns once a month at a
//! threshold, and can refuse calls itself, before sending, at a hard budget. With
//! [`ClientBuilder::redis`](crate::ClientBuilder::redis) the count is the fleet's (`INCR` on
//! `{prefix}:month:{organisation}:{YYYY-MM}`, expiring after the month); without it, or while
//! Redis is down, it is this client's.
//!
//! Months are counted in China Standard Time (UTC+8), DingTalk's home time zone.

use std::sync::{Mutex, PoisonError};

use crate::Error;

/// An organisation's monthly call budget: a warning threshold and an optional hard limit.
///
/// ```
/// use dingtalk_conference::MonthlyBudget;
///
/// // Warn at 4,000 calls this month; refuse (before sending) from the 5,000th on.
/// let budget = MonthlyBudget::new("ding1234corp").warn_at(4_000).limit(5_000);
/// # let _ = budget;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct MonthlyBudget {
    organisation: String,
    warn_at: Option<u64>,
    limit: Option<u64>,
}

impl MonthlyBudget {
    /// A budget for `organisation` (its corpId: the key shared by all its apps' clients),
    /// with no warning and no limit yet.
    pub fn new(organisation: impl Into<String>) -> Self {
        Self {
            organisation: organisation.into(),
            warn_at: None,
            limit: None,
        }
    }

    /// Logs a warning (once a month per client) when the month's count reaches `calls`.
    pub fn warn_at(mut self, calls: u64) -> Self {
        self.warn_at = Some(calls);
        self
    }

    /// Refuses calls, before sending, once `calls` were sent this month, with
    /// [`Error::MonthlyBudgetSpent`].
    pub fn limit(mut self, calls: u64) -> Self {
        self.limit = Some(calls);
        self
    }

    /// The organisation counted.
    pub fn organisation(&self) -> &str {
        &self.organisation
    }
}

/// The month as DingTalk counts it: `YYYY-MM` in UTC+8.
pub(crate) fn current_month() -> String {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    (now + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string()
}

/// The count behind a [`MonthlyBudget`]: the fleet's on Redis, or this client's.
pub(crate) struct MonthlyCounter {
    budget: MonthlyBudget,
    #[cfg(feature = "redis")]
    redis: Option<crate::RedisStore>,
    /// This client's own count: the month and the calls in it.
    local: Mutex<(String, u64)>,
    /// The month this client last warned in.
    warned: Mutex<Option<String>>,
}

impl MonthlyCounter {
    pub(crate) fn new(
        budget: MonthlyBudget,
        #[cfg(feature = "redis")] redis: Option<crate::RedisStore>,
    ) -> Self {
        Self {
            budget,
            #[cfg(feature = "redis")]
            redis,
            local: Mutex::new((String::new(), 0)),
            warned: Mutex::new(None),
        }
    }

    /// The fleet's count, or `None` without Redis (not configured, down, slow).
    #[cfg(feature = "redis")]
    async fn shared_count(&self, month: &str, limit: Option<u64>) -> Option<Result<u64, u64>> {
        let redis = self.redis.as_ref()?;
        redis
            .count_month(&self.budget.organisation, month, limit)
            .await
    }

    #[cfg(not(feature = "redis"))]
    #[allow(clippy::unused_async)]
    async fn shared_count(&self, _month: &str, _limit: Option<u64>) -> Option<Result<u64, u64>> {
        None
    }

    /// This client's own count: `Ok(count)`, or `Err(count)` when the limit is reached.
    fn count_locally(&self, month: &str, limit: Option<u64>) -> Result<u64, u64> {
        let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        if local.0 != month {
            *local = (month.to_string(), 0);
        }
        if limit.is_some_and(|limit| local.1 >= limit) {
            return Err(local.1);
        }
        local.1 += 1;
        Ok(local.1)
    }

    /// Counts one request about to be sent, or refuses it when the budget is spent.
    pub(crate) async fn spend(&self) -> Result<(), Error> {
        let month = current_month();
        let limit = self.budget.limit;
        let counted = match self.shared_count(&month, limit).await {
            Some(counted) => counted,
            None => self.count_locally(&month, limit),
        };
        match counted {
            Ok(used) => {
                if self.budget.warn_at.is_some_and(|at| used >= at) {
                    let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
                    if warned.as_deref() != Some(month.as_str()) {
                        *warned = Some(month.clone());
                        tracing::warn!(
                            organisation = %self.budget.organisation,
                            month = %month,
                            used,
                            limit,
                            "the organisation's monthly call budget is running out"
                        );
                    }
                }
                Ok(())
            }
            Err(used) => Err(Error::MonthlyBudgetSpent {
                organisation: self.budget.organisation.clone(),
                month,
                used,
                limit: limit.unwrap_or(used),
            }),
        }
    }
}
