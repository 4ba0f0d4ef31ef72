//! Flash minutes (闪记), what the spec's `x-facade-op` cannot declare (both `hand`): the AI
//! summary (a read sent as POST with a body, which generated reads do not take) and the
//! document link (its expiry a time, not epoch milliseconds). The other eight minutes
//! operations are generated (`generated.rs`).

use chrono::{DateTime, Utc};
use dingtalk_conference_api::types as wire;
use futures_util::FutureExt as _;

use crate::pipeline::Subject;
use crate::pipeline::shared::ReadKey;
use crate::{Client, Error, FlashMinutesBizType, MinutesDocumentLink, MinutesSummary};

use super::generated::{
    GENERATE_FLASH_MINUTES_DOCUMENT_URL as DOCUMENT_URL, QUERY_MINUTES_SUMMARY as SUMMARY,
};

impl Client {
    /// The AI summary of a conference's flash minutes, as the user `union_id` may read it:
    /// a paragraph, a summary per speaker, questions and answers, chapters, keywords, key
    /// sentences and actions.
    ///
    /// `sections` (`summaryTypeList`) asks for some sections only; empty asks for all
    /// (inferred). DingTalk documents no values; Alibaba Tingwu's `Paragraph`,
    /// `Conversational`, `QuestionsAnswering` and `AutoChapters` are likely (inferred), and are
    /// sent as given. An answer without a summary reads as an empty one.
    ///
    /// A query sent as POST that changes nothing: a read, shared with identical reads in
    /// flight and retried like one. A blank id or unionId is refused before any request.
    pub async fn minutes_summary(
        &self,
        conference_id: &str,
        union_id: &str,
        sections: &[&str],
    ) -> Result<MinutesSummary, Error> {
        use dingtalk_conference_api::checks::query_minutes_summary as checks;
        checks::conference_id(conference_id)?;
        let request = wire::QueryMinutesSummaryRequest {
            union_id: union_id.to_string(),
            summary_type_list: sections.iter().map(|s| (*s).to_string()).collect(),
        };
        checks::body(&request)?;
        let id = conference_id.to_string();
        let key = ReadKey::new(
            SUMMARY.id,
            (
                id.clone(),
                request.union_id.clone(),
                request.summary_type_list.clone(),
            ),
        );
        self.read(&SUMMARY, key, move |client, deadline| {
            let (id, request) = (id.clone(), request.clone());
            async move {
                let answer = client
                    .execute(&SUMMARY, Subject::conference(&id), deadline, |context| {
                        let api = client.endpoint().api(context);
                        let (id, request) = (&id, &request);
                        async move { api.query_minutes_summary(id, request).await }
                    })
                    .await?
                    .into_inner();
                Ok(answer
                    .summary
                    .map(MinutesSummary::from_wire)
                    .unwrap_or_default())
            }
            .boxed()
        })
        .await
    }

    /// A link to download the document of a conference's flash minutes
    /// ([`FlashMinutesBizType::Minutes`]) or cloud recording
    /// ([`FlashMinutesBizType::CloudRecord`]), for the user `union_id`, valid until `expires`
    /// (`None`: DingTalk's default, which it does not document).
    ///
    /// The link is a bearer credential: whoever has it can download the document until it
    /// expires, so [`MinutesDocumentLink`]'s `Debug` hides it. An expiry before 1970 or
    /// after 9999, a blank id or unionId, or a kind DingTalk does not name
    /// ([`FlashMinutesBizType::Unknown`]) is refused before any request.
    pub async fn minutes_document_url(
        &self,
        conference_id: &str,
        biz_type: &FlashMinutesBizType,
        union_id: &str,
        expires: Option<DateTime<Utc>>,
    ) -> Result<MinutesDocumentLink, Error> {
        use dingtalk_conference_api::checks::generate_flash_minutes_document_url as checks;
        let expire_time = expires.map(|time| time.timestamp_millis());
        checks::conference_id(conference_id)?;
        checks::biz_type(biz_type.as_str())?;
        checks::expire_time(expire_time)?;
        checks::union_id(union_id)?;
        let args = [conference_id, biz_type.as_str(), union_id].map(str::to_string);
        let key = ReadKey::new(DOCUMENT_URL.id, (args.clone(), expire_time));
        self.read(&DOCUMENT_URL, key, move |client, deadline| {
            let [id, kind, user] = args.clone();
            async move {
                let subject = Subject::conference(&id);
                let answer = client
                    .execute(&DOCUMENT_URL, subject, deadline, |context| {
                        let api = client.endpoint().api(context);
                        let (id, kind, user) = (&id, &kind, &user);
                        async move {
                            api.generate_flash_minutes_document_url(id, kind, expire_time, user)
                                .await
                        }
                    })
                    .await?
                    .into_inner();
                Ok(MinutesDocumentLink::from_wire(answer))
            }
            .boxed()
        })
        .await
    }
}

#[cfg(feature = "blocking")]
impl crate::blocking::Client {
    /// Like [`Client::minutes_summary`], blocking.
    pub fn minutes_summary(
        &self,
        conference_id: &str,
        union_id: &str,
        sections: &[&str],
    ) -> Result<MinutesSummary, Error> {
        let client = self.as_async().clone();
        let (id, user) = (conference_id.to_string(), union_id.to_string());
        let sections: Vec<String> = sections.iter().map(|s| (*s).to_string()).collect();
        self.block_on(async move {
            let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
            client.minutes_summary(&id, &user, &sections).await
        })
    }

    /// Like [`Client::minutes_document_url`], blocking.
    pub fn minutes_document_url(
        &self,
        conference_id: &str,
        biz_type: &FlashMinutesBizType,
        union_id: &str,
        expires: Option<DateTime<Utc>>,
    ) -> Result<MinutesDocumentLink, Error> {
        let client = self.as_async().clone();
        let (id, kind, user) = (
            conference_id.to_string(),
            biz_type.clone(),
            union_id.to_string(),
        );
        self.block_on(async move {
            client
                .minutes_document_url(&id, &kind, &user, expires)
                .await
        })
    }
}
