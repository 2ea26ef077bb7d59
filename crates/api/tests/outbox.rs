//! Notifications leaving Leasehold: e-mail through a real SMTP conversation
//! with a local sink, and signed webhooks to a local receiver that fails once,
//! with the recipients' toggles applied, retries with backoff, the delivery
//! log and replay.

mod support;

use chrono::Utc;
use leasehold_client::{Client, Registration};
use leasehold_core::notify::{verify, SIGNATURE_HEADER};
use leasehold_core::values::{Channel, DeliveryStatus, EventKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A message the SMTP sink accepted.
#[derive(Debug, Clone)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// A local SMTP server that accepts every message and keeps it.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let inbox = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut to = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("RCPT TO:") {
                        let address = line.trim_end()[8..].trim().trim_matches(['<', '>']).to_owned();
                        to.push(address);
                        b"250 ok\r\n"
                    } else if command == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        if let Ok(mut inbox) = inbox.lock() {
                            inbox.push(Mail {
                                to: std::mem::take(&mut to),
                                data,
                            });
                        }
                        b"250 queued\r\n"
                    } else if command == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, inbox)
}

/// A request the webhook receiver got.
#[derive(Debug, Clone)]
struct Hook {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A local HTTP endpoint that answers the scripted statuses in turn (then 200).
async fn webhook_receiver(script: Vec<u16>) -> (String, Arc<Mutex<Vec<Hook>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let script = Arc::new(Mutex::new(script.into_iter()));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let received = kept.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(socket);
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap_or(0); // the request line
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                    }
                }
                let length = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                let status = script.lock().ok().and_then(|mut s| s.next()).unwrap_or(200);
                if let Ok(mut received) = received.lock() {
                    received.push(Hook { headers, body });
                }
                let response = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = reader.get_mut().write_all(response.as_bytes()).await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}/hooks/leasehold"), received)
}

async fn register(w: &World, agent: &Client, fingerprint: &str) -> Registration {
    ok(agent
        .register_device(
            &RegisterDevice {
                fingerprint: fingerprint.into(),
                name: fingerprint.into(),
                product_id: w.product,
            },
            None,
        )
        .await)
}

fn mails(inbox: &Arc<Mutex<Vec<Mail>>>) -> Vec<Mail> {
    inbox.lock().map(|m| m.clone()).unwrap_or_default()
}

fn hooks(received: &Arc<Mutex<Vec<Hook>>>) -> Vec<Hook> {
    received.lock().map(|h| h.clone()).unwrap_or_default()
}

async fn low_seats_are_emailed_and_signed_webhooks_retried(db: TestDatabase) {
    let (smtp_port, inbox) = smtp_sink().await;
    let (hook_url, received) = webhook_receiver(vec![500]).await;
    let w = world_with(db, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{smtp_port}").into());
        s.public_url = Some("https://licences.example.com".into());
        // The test drives the worker itself, at the times it chooses.
        s.delivery_interval_ms = 3_600_000;
    })
    .await;
    let (w, agent) = with_devices(w).await;
    let state = w.app.state.clone();

    // Who is told what: toggles are validated; vendor staff name the organisation.
    let bad = err(w
        .north_admin
        .put_recipients(&PutRecipients {
            organisation_id: None,
            recipients: vec![RecipientInput {
                email: "nobody".into(),
                events: Some(vec!["low_seats".into()]),
                pool_id: None,
            }],
        })
        .await);
    assert_eq!(bad.status(), Some(422));
    assert_eq!(err(w.vendor.recipients(None).await).status(), Some(422));
    assert_eq!(err(w.north_viewer.recipients(None).await).status(), Some(403));
    assert_eq!(err(w.south_admin.recipients(Some(w.north)).await).status(), Some(404));
    let saved = ok(w
        .north_admin
        .put_recipients(&PutRecipients {
            organisation_id: None,
            recipients: vec![
                RecipientInput {
                    email: "ops@north.test".into(),
                    events: Some(vec!["low_seats".into(), "webhook_failing".into()]),
                    pool_id: None,
                },
                RecipientInput {
                    email: "cfo@north.test".into(),
                    events: Some(vec!["invoice_sent".into()]),
                    pool_id: None,
                },
            ],
        })
        .await);
    assert_eq!(saved.items.len(), 2);
    assert_eq!(ok(w.vendor.recipients(Some(w.north)).await), saved);

    let bad_url = err(w
        .north_admin
        .create_webhook(&CreateWebhook {
            organisation_id: None,
            url: "ftp://example.com".into(),
            description: String::new(),
            events: vec![],
        })
        .await);
    assert_eq!(bad_url.status(), Some(422));
    let hook = ok(w
        .north_admin
        .create_webhook(&CreateWebhook {
            organisation_id: None,
            url: hook_url.clone(),
            description: "Ops bot".into(),
            events: vec!["low_seats".into()],
        })
        .await);
    let secret = hook
        .secret
        .clone()
        .unwrap_or_else(|| panic!("the secret is shown at creation"));
    assert!(secret.starts_with("whsec_"));
    let listed = ok(w.north_admin.list_webhooks(&WebhookQuery::default()).await);
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].secret, None, "the secret is never shown again");
    assert_eq!(listed.items[0].events, vec![EventKind::LowSeats]);
    assert_eq!(ok(w.south_admin.list_webhooks(&WebhookQuery::default()).await).total, 0);
    assert_eq!(err(w.south_admin.get_webhook(hook.id).await).status(), Some(404));

    // The pool of 2 alerts below 1: the second grant crosses it.
    let pool = ok(w.north_admin.list_pools(&PoolQuery::default()).await).items[0].id;
    ok(w.north_admin
        .update_pool(
            pool,
            &UpdatePool {
                alert_below: Some(1),
                ..UpdatePool::default()
            },
        )
        .await);
    for fingerprint in ["pc-0001", "pc-0002"] {
        assert!(matches!(
            register(&w, &agent, fingerprint).await,
            Registration::Granted { .. }
        ));
    }
    let queued = ok(w.north_admin.list_deliveries(&DeliveryQuery::default()).await);
    assert_eq!(queued.total, 2, "one e-mail (ops, not cfo) and one webhook: {queued:?}");
    assert!(queued.items.iter().all(|d| d.status == DeliveryStatus::Pending));

    // The worker's first pass: the e-mail arrives, the endpoint answers 500.
    let sent_at = Utc::now();
    assert_eq!(leasehold_api::jobs::deliver_once(&state, sent_at).await, 2);
    let inbox = mails(&inbox);
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].to, vec!["ops@north.test".to_string()]);
    assert!(
        inbox[0].data.contains("Subject: Leasehold: Low on seats"),
        "{}",
        inbox[0].data
    );
    assert!(inbox[0].data.contains("CAD Pro"), "{}", inbox[0].data);
    assert!(inbox[0].data.contains("https://licences.example.com/notifications"));
    let log = ok(w
        .north_admin
        .list_deliveries(&DeliveryQuery {
            channel: Some(Channel::Webhook),
            ..DeliveryQuery::default()
        })
        .await);
    let failed = &log.items[0];
    assert_eq!(
        (failed.status, failed.attempts, failed.response_status),
        (DeliveryStatus::Pending, 1, Some(500))
    );
    let retry_at = failed.next_attempt_at.unwrap_or_else(|| panic!("a retry is scheduled"));
    assert!(
        retry_at > sent_at + chrono::Duration::seconds(5),
        "backoff: {retry_at} after {sent_at}"
    );
    // Not before its time…
    assert_eq!(leasehold_api::jobs::deliver_once(&state, Utc::now()).await, 0);
    // …and after it, the retry succeeds.
    assert_eq!(
        leasehold_api::jobs::deliver_once(&state, retry_at + chrono::Duration::seconds(1)).await,
        1
    );
    let got = hooks(&received);
    assert_eq!(got.len(), 2, "the failed attempt and its retry");
    for request in &got {
        let signature = request
            .headers
            .get(&SIGNATURE_HEADER.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            verify(&secret, &signature, &request.body, Utc::now()),
            Ok(()),
            "{signature}"
        );
        assert_ne!(verify("whsec_wrong", &signature, &request.body, Utc::now()), Ok(()));
        assert_eq!(
            request.headers.get("leasehold-event").map(String::as_str),
            Some("low_seats")
        );
    }
    let event: serde_json::Value = serde_json::from_slice(&got[1].body).unwrap_or_default();
    let first: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap_or_default();
    assert_eq!(event["type"], "low_seats");
    assert_eq!(event["id"], first["id"], "a retry carries the same event id");
    assert_eq!(event["pool_id"], serde_json::json!(pool));
    let delivered = &ok(w
        .north_admin
        .list_deliveries(&DeliveryQuery {
            webhook: Some(hook.id),
            ..DeliveryQuery::default()
        })
        .await)
    .items[0];
    assert_eq!(
        (delivered.status, delivered.attempts, delivered.response_status),
        (DeliveryStatus::Delivered, 2, Some(200))
    );

    // Replay: a new delivery of the same event, sent on the next pass.
    let replay = ok(w.north_admin.replay_delivery(delivered.id).await);
    assert_eq!(
        (replay.status, replay.replay_of),
        (DeliveryStatus::Pending, Some(delivered.id))
    );
    assert_eq!(
        err(w.south_admin.replay_delivery(delivered.id).await).status(),
        Some(404)
    );
    assert_eq!(leasehold_api::jobs::deliver_once(&state, Utc::now()).await, 1);
    let got = hooks(&received);
    assert_eq!(got.len(), 3);
    let replayed: serde_json::Value = serde_json::from_slice(&got[2].body).unwrap_or_default();
    assert_eq!(replayed["id"], first["id"]);

    // Disabled endpoints get nothing; rotating the secret shows the new one once.
    let off = ok(w
        .north_admin
        .update_webhook(
            hook.id,
            &UpdateWebhook {
                enabled: Some(false),
                rotate_secret: true,
                ..UpdateWebhook::default()
            },
        )
        .await);
    assert!(!off.enabled);
    assert!(off.secret.as_deref().is_some_and(|s| s != secret));
    ok(w.north_admin.delete_webhook(hook.id).await);
    assert_eq!(err(w.north_admin.get_webhook(hook.id).await).status(), Some(404));
    let audit = ok(w.north_admin.list_audit(&AuditQuery::default()).await);
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "notification_recipients.updated",
        "webhook.created",
        "webhook.updated",
        "webhook.deleted",
        "delivery.replayed",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

on_both_engines!(low_seats_are_emailed_and_signed_webhooks_retried);
