//! The recording allow-list, what the spec's `x-facade-op` cannot declare (`hand`): DingTalk
//! takes the change as JSON inside one query parameter (`requestBody`), which the generated
//! client takes as text. Starting and stopping cloud recording and live pushes are generated
//! (`generated.rs`).

use dingtalk_conference_api::types as wire;

use super::generated::OPT_RECORD_WHITE_ACCOUNT as ALLOW_LIST;
use crate::pipeline::Subject;
use crate::{Client, Error};

/// A change to the organisation's recording allow-list, for
/// [`Client::change_record_allow_list`].
///
/// DingTalk does not document this operation: the field names are its SDK's, and the values
/// of `operation` and of a range's kind are not documented (the SDK's example adds a range of
/// kind 3 with a unionId, with operation 1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordAllowListChange {
    /// unionId of the user making the change.
    pub operator: String,
    /// Which recording the list is for (`bizType`): `cloud_record` in the SDK's example.
    pub biz_type: String,
    /// What to do (`operation`); undocumented, the SDK's example is 1.
    pub operation: i32,
    /// Who the change is about: each `(settingRangeId, settingRangeType)`.
    pub ranges: Vec<(String, i32)>,
}

impl RecordAllowListChange {
    /// `operation` on the `biz_type` list (e.g. `cloud_record`), made by `operator` (a
    /// unionId); add whom it is about with [`RecordAllowListChange::range`].
    pub fn new(operator: impl Into<String>, biz_type: impl Into<String>, operation: i32) -> Self {
        Self {
            operator: operator.into(),
            biz_type: biz_type.into(),
            operation,
            ranges: Vec::new(),
        }
    }

    /// Adds a range: its id (a unionId for kind 3 in the SDK's example) and its kind.
    pub fn range(mut self, id: impl Into<String>, kind: i32) -> Self {
        self.ranges.push((id.into(), kind));
        self
    }

    /// The change as the `requestBody` query parameter carries it: checked, then JSON.
    fn into_query(self) -> Result<String, Error> {
        dingtalk_conference_api::checks::ids::union("unionId", &self.operator)?;
        if self.biz_type.trim().is_empty() {
            return Err(Error::InvalidInput("bizType is empty".to_string()));
        }
        if self.ranges.is_empty() {
            return Err(Error::InvalidInput(
                "the change names nobody: add a range".to_string(),
            ));
        }
        if self.ranges.iter().any(|(id, _)| id.trim().is_empty()) {
            return Err(Error::InvalidInput("a range's id is empty".to_string()));
        }
        let body = wire::OptRecordWhiteAccountRequestBody {
            biz_type: self.biz_type,
            operation: self.operation,
            setting_range_list: self
                .ranges
                .into_iter()
                .map(
                    |(setting_range_id, setting_range_type)| wire::RecordAllowListRange {
                        setting_range_id,
                        setting_range_type,
                    },
                )
                .collect(),
            union_id: self.operator,
        };
        serde_json::to_string(&body)
            .map_err(|error| Error::InvalidInput(format!("the change cannot be encoded: {error}")))
    }
}

impl Client {
    /// Changes the organisation's recording allow-list: adds or removes the change's ranges
    /// (`operation`; undocumented values, see [`RecordAllowListChange`]).
    ///
    /// The change travels as JSON in the query parameter `requestBody` of a POST without a
    /// body, as DingTalk's SDKs send it. Retried like a setting: the list is a set, so a
    /// repeat leaves it as it was. A blank operator, business type or range id, or no range,
    /// is refused before any request.
    pub async fn change_record_allow_list(
        &self,
        change: RecordAllowListChange,
    ) -> Result<(), Error> {
        let request_body = change.into_query()?;
        let request_body = &request_body;
        self.execute(
            &ALLOW_LIST,
            Subject::default(),
            self.deadline()?,
            |context| async move {
                self.endpoint()
                    .api(context)
                    .opt_record_white_account(request_body)
                    .await
            },
        )
        .await?;
        Ok(())
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::change_record_allow_list`], blocking.
    pub fn change_record_allow_list(&self, change: RecordAllowListChange) -> Result<(), Error> {
        let client = self.as_async().clone();
        self.block_on(async move { client.change_record_allow_list(change).await })
    }
}
