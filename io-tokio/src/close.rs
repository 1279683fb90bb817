//! Closing a client's transport after its association ended.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long a client waits for the server's end of the stream after its own.
const LINGER: Duration = Duration::from_millis(500);

/// Shut the write half down (TLS: close_notify, then FIN), then read and drop what the server
/// still sends until it closes too, for at most [`LINGER`]. Closing a socket with unread input
/// makes the kernel answer with a reset instead of a FIN: after a release the server's last
/// octets (its close_notify under TLS) are often still unread.
pub(crate) async fn close<R, W>(rd: &mut R, wr: &mut W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let _ = wr.shutdown().await;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(rd.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
