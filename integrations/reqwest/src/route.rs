//! [`UrlTemplate`], the route template a request's client task is named after, and the name.

use std::borrow::Cow;

/// Put in a request's extensions to name its client task after a route template:
/// `GET api.example.com/orders/{id}` instead of `GET api.example.com`. The template is also
/// recorded as `url.template` (OpenTelemetry's attribute). Give the template, never the path
/// with its ids: a task name is a group key (metrics, `taskwire tree` summaries, tickets),
/// and a name per order id would make a group per order.
///
/// ```
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware, id: u64) -> reqwest_middleware::Result<()> {
/// client
///     .get(format!("https://api.example.com/orders/{id}"))
///     .with_extension(taskwire_reqwest::UrlTemplate::new("/orders/{id}"))
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate(Cow<'static, str>);

impl UrlTemplate {
    /// A route template, such as `/orders/{id}` (a leading `/` is added when missing).
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        UrlTemplate(template.into())
    }

    /// The template as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client task's name: the method (`HTTP` for a non-standard one), the host, and the
/// route template when the request has one; never the raw path.
pub(crate) fn task_name(
    method: &str,
    host: Option<&str>,
    template: Option<&UrlTemplate>,
) -> String {
    let mut name = String::with_capacity(
        method.len() + host.map_or(0, str::len) + template.map_or(0, |t| t.0.len()) + 2,
    );
    name.push_str(method);
    if host.is_some() || template.is_some() {
        name.push(' ');
    }
    if let Some(host) = host {
        name.push_str(host);
    }
    if let Some(t) = template {
        if !t.0.starts_with('/') {
            name.push('/');
        }
        name.push_str(&t.0);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_method_host_and_template_never_the_path() {
        let t = UrlTemplate::new("/orders/{id}");
        assert_eq!(
            task_name("GET", Some("api.example.com"), Some(&t)),
            "GET api.example.com/orders/{id}"
        );
        assert_eq!(
            task_name("GET", Some("api.example.com"), None),
            "GET api.example.com"
        );
        assert_eq!(
            task_name("POST", Some("h"), Some(&UrlTemplate::new("pay"))),
            "POST h/pay"
        );
        assert_eq!(task_name("HTTP", None, None), "HTTP");
    }
}
