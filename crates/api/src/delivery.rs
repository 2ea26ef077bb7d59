//! The outbox worker's senders: e-mail over SMTP (lettre) and signed webhooks
//! (reqwest). The store decides what is due and records each attempt; this
//! module only turns a claimed delivery into bytes on the wire.

use crate::config::Settings;
use leasehold_core::notify::{sign, SIGNATURE_HEADER};
use leasehold_core::ports::{ClaimedDelivery, DeliveryResult, Notification};
use leasehold_core::values::{Channel, EventKind};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// How long one attempt may take (well inside the claim's lease).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Deliverer {
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    http: reqwest::Client,
    public_url: Option<String>,
}

impl Deliverer {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let mailer = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| format!("smtp_url: {e}"))?
                    .timeout(Some(ATTEMPT_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        let from = settings.mail_from.parse().map_err(|e| format!("mail_from: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .user_agent(concat!("Leasehold-Webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the webhook client: {e}"))?;
        Ok(Self {
            mailer,
            from,
            http,
            public_url: settings.public_url.clone(),
        })
    }

    /// Whether e-mail can be sent (an SMTP server is configured).
    pub fn sends_email(&self) -> bool {
        self.mailer.is_some()
    }

    /// One attempt at a claimed delivery.
    pub async fn attempt(&self, claimed: &ClaimedDelivery, now: chrono::DateTime<chrono::Utc>) -> DeliveryResult {
        match claimed.delivery.channel {
            Channel::Email => self.email(claimed).await,
            Channel::Webhook => self.webhook(claimed, now).await,
        }
    }

    async fn email(&self, claimed: &ClaimedDelivery) -> DeliveryResult {
        let failed = |error: String| DeliveryResult::Failed {
            error,
            response_status: None,
        };
        let Some(mailer) = &self.mailer else {
            return failed("no SMTP server is configured".into());
        };
        let Some(to) = claimed
            .delivery
            .recipient
            .as_deref()
            .and_then(|to| to.parse::<Mailbox>().ok())
        else {
            return failed("the recipient is not an e-mail address".into());
        };
        let (subject, body) = render_email(&claimed.notification, self.public_url.as_deref());
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body);
        let message = match message {
            Ok(message) => message,
            Err(error) => return failed(format!("building the message: {error}")),
        };
        match mailer.send(message).await {
            Ok(response) => DeliveryResult::Delivered {
                response_status: Some(u16::from(response.code())),
            },
            Err(error) => DeliveryResult::Failed {
                error: error.to_string(),
                response_status: error.status().map(u16::from),
            },
        }
    }

    async fn webhook(&self, claimed: &ClaimedDelivery, now: chrono::DateTime<chrono::Utc>) -> DeliveryResult {
        let Some((url, secret)) = &claimed.endpoint else {
            return DeliveryResult::Failed {
                error: "the endpoint was removed".into(),
                response_status: None,
            };
        };
        let body = webhook_body(&claimed.notification);
        let signature = sign(secret, now.timestamp(), &body);
        let sent = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header("Leasehold-Event", claimed.notification.kind.as_str())
            .header("Leasehold-Delivery", claimed.delivery.id.to_string())
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => DeliveryResult::Delivered {
                response_status: Some(response.status().as_u16()),
            },
            Ok(response) => DeliveryResult::Failed {
                error: format!("the endpoint answered {}", response.status()),
                response_status: Some(response.status().as_u16()),
            },
            Err(error) => DeliveryResult::Failed {
                error: describe(&error),
                response_status: None,
            },
        }
    }
}

/// A failed request in a few words: reqwest's own message names the URL again
/// and wraps the cause in layers ("error sending request for url (…): client
/// error (Connect): tcp connect error: Connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut innermost = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    let cause = innermost.unwrap_or_else(|| error.to_string());
    if error.is_timeout() {
        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else if error.is_connect() {
        format!("could not connect: {cause}")
    } else {
        cause
    }
}

/// What a webhook endpoint receives: the event, with a stable `id` receivers
/// can de-duplicate on (a retry or a replay carries the same one).
pub fn webhook_body(notification: &Notification) -> Vec<u8> {
    let event = serde_json::json!({
        "id": notification.id,
        "type": notification.kind,
        "created_at": notification.created_at,
        "organisation_id": notification.organisation_id,
        "pool_id": notification.pool_id,
        "message": notification.message,
        "data": notification.data,
    });
    serde_json::to_vec(&event).unwrap_or_default()
}

/// The subject and plain-text body of a notification's e-mail.
pub fn render_email(notification: &Notification, public_url: Option<&str>) -> (String, String) {
    let label = EventKind::parse(&notification.kind).map_or("Notification", |kind| kind.label());
    let subject = format!("Leasehold: {label}");
    let mut body = format!(
        "{}\n\n{}\n",
        notification.message,
        notification.created_at.format("%Y-%m-%d %H:%M UTC")
    );
    if let Some(url) = public_url {
        body.push_str(&format!(
            "\nOpen Leasehold: {}/notifications\n",
            url.trim_end_matches('/')
        ));
    }
    body.push_str(&format!(
        "\nYou receive this as a recipient of \"{label}\" notifications.\n\
         An administrator can change that under Notifications > Recipients.\n"
    ));
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leasehold_core::ids::{NotificationId, OrganisationId};

    fn notification() -> Notification {
        Notification {
            id: NotificationId::from_uuid(uuid::Uuid::now_v7()),
            organisation_id: OrganisationId::from_uuid(uuid::Uuid::now_v7()),
            pool_id: None,
            kind: "low_seats".into(),
            message: "Acme CAD: 2 of 10 seats left".into(),
            data: serde_json::json!({"available": 2}),
            created_at: chrono::DateTime::from_timestamp(1_765_000_000, 0).unwrap_or_default(),
            read_at: None,
        }
    }

    #[test]
    fn an_email_says_what_happened_and_why_it_came() {
        let (subject, body) = render_email(&notification(), Some("https://licences.example.com/"));
        assert_eq!(subject, "Leasehold: Low on seats");
        assert!(body.starts_with("Acme CAD: 2 of 10 seats left\n"));
        assert!(body.contains("Open Leasehold: https://licences.example.com/notifications"));
        assert!(body.contains("recipient of \"Low on seats\" notifications"));
        assert!(
            body.lines().all(|line| line.len() <= 78),
            "short lines stay readable in every mail client"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_described_in_a_few_words() {
        let error = match reqwest::Client::new().post("http://127.0.0.1:9/hook").send().await {
            Err(error) => error,
            Ok(response) => panic!("something answered on port 9: {response:?}"),
        };
        let text = describe(&error);
        assert!(text.starts_with("could not connect: "), "{text}");
        assert!(!text.contains("http://"), "{text}");
    }

    #[test]
    fn a_webhook_body_carries_the_event_id_and_type() -> Result<(), serde_json::Error> {
        let n = notification();
        let body: serde_json::Value = serde_json::from_slice(&webhook_body(&n))?;
        assert_eq!(body["id"], serde_json::json!(n.id));
        assert_eq!(body["type"], "low_seats");
        assert_eq!(body["data"]["available"], 2);
        Ok(())
    }
}
