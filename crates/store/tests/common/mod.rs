//! What the storage suites share.

/// Runs each named `async fn(TestDatabase)` once on SQLite and once on a fresh
/// PostgreSQL database (skipped when PostgreSQL is unreachable, unless `CI=true`).
#[macro_export]
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(leasehold_store::testing::TestDatabase::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    if let Some(db) = leasehold_store::testing::TestDatabase::postgres().await {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
}
