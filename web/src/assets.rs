//! The embedded assets: one stylesheet and one small script, compiled into the binary (no
//! build step, no CDN: the UI works offline), served with long-lived cache headers under
//! names that change with their content.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The stylesheet.
pub(crate) const STYLE: &str = include_str!("assets/style.css");
/// The script: asks before a delete (the pages work without it).
pub(crate) const SCRIPT: &str = include_str!("assets/app.js");

/// Where the stylesheet is served.
pub(crate) const STYLE_PATH: &str = "/assets/style.css";
/// Where the script is served.
pub(crate) const SCRIPT_PATH: &str = "/assets/app.js";

/// The bytes of the assets every page loads: the stylesheet and the script.
pub const ASSET_BYTES: usize = STYLE.len() + SCRIPT.len();

pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}
