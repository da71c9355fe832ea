//! The kinds of the messages whose secrets the sender produces (the events only ask for them),
//! and how long those secrets stay valid.

/// The notice that carries the single-use link of a certificate registration.
pub const NOTICE_EMAIL_CONFIRMATION: &str = "email_confirmation_link";
/// The notice that carries the one-time activation to set a password.
pub const NOTICE_ACTIVATION: &str = "activation_link";
/// The notice that carries a one-time PIN.
pub const NOTICE_PIN: &str = "login_pin";
/// How long a one-time PIN is valid, in minutes.
pub const PIN_MINUTES: i64 = 10;

/// How long a one-time activation link stays valid.
pub const ACTIVATION_DAYS: i64 = 7;
