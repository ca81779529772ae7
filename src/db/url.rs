//! `DbUrl`: a URL stored as TEXT, so rows can hand out `&Url` (the federation
//! traits' `id()` returns one) without re-parsing.

use diesel::{
    backend::Backend,
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    serialize::{self, Output, ToSql},
    sql_types::Text,
};
use std::{fmt, ops::Deref};
use url::Url;

#[derive(Clone, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct DbUrl(pub Url);

impl<DB: Backend> ToSql<Text, DB> for DbUrl
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <str as ToSql<Text, DB>>::to_sql(self.0.as_str(), out)
    }
}

impl<DB: Backend> FromSql<Text, DB> for DbUrl
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Ok(DbUrl(Url::parse(&text)?))
    }
}

impl Deref for DbUrl {
    type Target = Url;
    fn deref(&self) -> &Url {
        &self.0
    }
}

impl From<Url> for DbUrl {
    fn from(url: Url) -> Self {
        DbUrl(url)
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}
