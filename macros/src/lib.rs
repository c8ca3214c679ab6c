//! The macros of native-pool's crate API: `#[derive(TaskArgs)]` turns a struct into an argument
//! schema plus its typed reader, `#[derive(IntoValue)]` turns a struct into a result object, and
//! `#[task]` turns a function into a `Task`. Use them through `native_pool::prelude`; the traits they
//! implement, and every rule they follow, are documented in the `native_pool` crate.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Ident, ItemFn, LitStr, Meta, Token};

/// Derives `native_pool::TaskArgs` for a struct with named fields: see that trait's documentation.
#[proc_macro_derive(TaskArgs, attributes(arg))]
pub fn derive_task_args(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    task_args(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives `native_pool::IntoValue` for a struct with named fields: see that trait's documentation.
#[proc_macro_derive(IntoValue, attributes(value))]
pub fn derive_into_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    into_value(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Declares a task: see `native_pool::task` for the form and what it generates.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as ItemFn);
    task_fn(attr.into(), item).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The first paragraph of an item's doc comments, its lines joined by spaces.
fn doc_of(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value {
                let line = s.value().trim().to_owned();
                if line.is_empty() {
                    if lines.is_empty() {
                        continue;
                    }
                    break;
                }
                lines.push(line);
            }
        }
    }
    lines.join(" ")
}

/// `max_output_length` → `maxOutputLength`: JS names for Rust fields.
fn camel_case(rust: &str) -> String {
    let rust = rust.strip_prefix("r#").unwrap_or(rust);
    let mut out = String::with_capacity(rust.len());
    let mut upper = false;
    for c in rust.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn named_fields(input: &DeriveInput, what: &str) -> syn::Result<Vec<syn::Field>> {
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Ok(named.named.iter().cloned().collect()),
            Fields::Unit => Ok(Vec::new()),
            Fields::Unnamed(_) => Err(syn::Error::new(input.span(), format!("{what} needs a struct with named fields"))),
        },
        _ => Err(syn::Error::new(input.span(), format!("{what} needs a struct with named fields"))),
    }
}

/// What `#[arg(...)]` says about one field.
#[derive(Default)]
struct ArgAttrs {
    name: Option<LitStr>,
    min: Option<Expr>,
    max: Option<Expr>,
    one_of: Option<Expr>,
    default: Option<Expr>,
    kind: Option<Expr>,
    or_string: bool,
}

fn arg_attrs(field: &syn::Field) -> syn::Result<ArgAttrs> {
    let mut a = ArgAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("arg")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
            match key.as_str() {
                "name" => a.name = Some(meta.value()?.parse()?),
                "min" => a.min = Some(meta.value()?.parse()?),
                "max" => a.max = Some(meta.value()?.parse()?),
                "one_of" => a.one_of = Some(meta.value()?.parse()?),
                "default" => a.default = Some(meta.value()?.parse()?),
                "kind" => a.kind = Some(meta.value()?.parse()?),
                "or_string" => a.or_string = true,
                _ => {
                    return Err(meta.error(
                        "unknown #[arg] key (expected name, min, max, one_of, default, kind or or_string)",
                    ))
                }
            }
            Ok(())
        })?;
    }
    Ok(a)
}

fn task_args(input: DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut descriptors = Vec::new();
    let mut reads = Vec::new();
    for field in named_fields(&input, "#[derive(TaskArgs)]")? {
        let attrs = arg_attrs(&field)?;
        let rust = field.ident.clone().expect("named field");
        let ty = &field.ty;
        let js = attrs.name.as_ref().map(LitStr::value).unwrap_or_else(|| camel_case(&rust.to_string()));
        let doc = doc_of(&field.attrs);
        let mut kind = match &attrs.kind {
            Some(k) => quote!((#k)),
            None => quote!(<#ty as ::native_pool::ArgField>::KIND),
        };
        if attrs.or_string {
            kind = quote!(#kind.or_string());
        }
        if let Some(min) = &attrs.min {
            kind = quote!(#kind.with_min((#min) as f64));
        }
        if let Some(max) = &attrs.max {
            kind = quote!(#kind.with_max((#max) as f64));
        }
        if let Some(one_of) = &attrs.one_of {
            let list = match one_of {
                Expr::Array(_) => quote!(&#one_of),
                other => quote!(#other),
            };
            kind = quote!(#kind.with_one_of(#list));
        }
        let required = if attrs.default.is_some() {
            quote!(false)
        } else {
            quote!(!<#ty as ::native_pool::ArgField>::OPTIONAL)
        };
        descriptors.push(quote! {
            ::native_pool::Field { name: #js, ty: #kind, required: #required, doc: #doc }
        });
        reads.push(match &attrs.default {
            Some(default) => quote!(#rust: reader.take_or(#js, || #default)?),
            None => quote!(#rust: reader.take(#js)?),
        });
    }
    Ok(quote! {
        impl #impl_generics ::native_pool::TaskArgs for #ident #ty_generics #where_clause {
            fn schema() -> ::native_pool::ArgsSchema {
                const FIELDS: &[::native_pool::Field] = &[#(#descriptors),*];
                ::native_pool::ArgsSchema::Object(FIELDS)
            }
            fn from_value(args: ::native_pool::Value) -> ::core::result::Result<Self, ::native_pool::TaskError> {
                let mut reader = ::native_pool::ArgsReader::new(&<Self as ::native_pool::TaskArgs>::schema(), args)?;
                ::core::result::Result::Ok(#ident { #(#reads),* })
            }
        }
    })
}

fn into_value(input: DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut entries = Vec::new();
    let mut ts = Vec::new();
    for field in named_fields(&input, "#[derive(IntoValue)]")? {
        let rust = field.ident.clone().expect("named field");
        let mut js = camel_case(&rust.to_string());
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("value")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    js = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error("unknown #[value] key (expected name)"))
                }
            })?;
        }
        let ty = &field.ty;
        entries.push(quote!((::std::string::String::from(#js), ::native_pool::IntoValue::into_value(self.#rust))));
        ts.push(quote!(::std::format!("{}: {}", #js, <#ty as ::native_pool::IntoValue>::ts_type())));
    }
    Ok(quote! {
        impl #impl_generics ::native_pool::IntoValue for #ident #ty_generics #where_clause {
            fn into_value(self) -> ::native_pool::Value {
                ::native_pool::Value::Object(::std::vec![#(#entries),*])
            }
            fn ts_type() -> ::std::string::String {
                let fields: ::std::vec::Vec<::std::string::String> = ::std::vec![#(#ts),*];
                ::std::format!("{{ {} }}", fields.join("; "))
            }
        }
    })
}

fn task_fn(attr: TokenStream2, item: ItemFn) -> syn::Result<TokenStream2> {
    let mut name: Option<LitStr> = None;
    let mut description: Option<LitStr> = None;
    let mut result: Option<LitStr> = None;
    let mut message: Option<LitStr> = None;
    let mut prepare: Option<Expr> = None;
    let mut type_name: Option<Ident> = None;
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    for meta in metas {
        let Meta::NameValue(nv) = meta else {
            return Err(syn::Error::new(meta.span(), "expected `key = value`"));
        };
        let key = nv.path.get_ident().map(Ident::to_string).unwrap_or_default();
        let lit = |e: &Expr| match e {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Ok(s.clone()),
            other => Err(syn::Error::new(other.span(), "expected a string literal")),
        };
        match key.as_str() {
            "name" => name = Some(lit(&nv.value)?),
            "description" => description = Some(lit(&nv.value)?),
            "result" => result = Some(lit(&nv.value)?),
            "message" => message = Some(lit(&nv.value)?),
            "prepare" => prepare = Some(nv.value.clone()),
            "type_name" => {
                let s = lit(&nv.value)?;
                type_name = Some(Ident::new(&s.value(), s.span()));
            }
            _ => {
                return Err(syn::Error::new(
                    nv.path.span(),
                    "unknown #[task] key (expected name, description, result, message, prepare or type_name)",
                ))
            }
        }
    }
    let fn_ident = &item.sig.ident;
    let name = name.unwrap_or_else(|| LitStr::new(&camel_case(&fn_ident.to_string()), fn_ident.span()));
    let description = match description {
        Some(d) => d.value(),
        None => doc_of(&item.attrs),
    };
    if description.is_empty() {
        return Err(syn::Error::new(
            fn_ident.span(),
            "a task needs a description: a doc comment on the function, or #[task(description = \"...\")]",
        ));
    }
    if item.sig.inputs.len() != 2 {
        return Err(syn::Error::new(item.sig.inputs.span(), "a task function takes (args, ctx: &TaskContext)"));
    }
    let vis = &item.vis;
    let type_name = type_name.unwrap_or_else(|| {
        let camel = camel_case(&fn_ident.to_string());
        let mut chars = camel.chars();
        let upper: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        format_ident!("{}", upper, span = Span::call_site())
    });
    let doc = format!("The task `{}`, declared by [`{}`] with `#[task]`.", name.value(), fn_ident);
    let result_ts = match result {
        Some(r) => quote!(#r),
        None => quote! {
            static TS: ::std::sync::OnceLock<::std::string::String> = ::std::sync::OnceLock::new();
            TS.get_or_init(|| ::native_pool::__private::result_ts(#fn_ident)).as_str()
        },
    };
    let (schema, prepared) = match prepare {
        Some(p) => (
            quote!(::native_pool::__private::schema_of_prepare(#p)),
            quote!(::native_pool::__private::prepare_with(#p, #fn_ident, args)),
        ),
        None => (
            quote!(::native_pool::__private::schema_of(#fn_ident)),
            quote!(::native_pool::__private::prepare(#fn_ident, args)),
        ),
    };
    let message_fn = message.map(|m| quote!(fn message(&self) -> &'static str { #m }));
    Ok(quote! {
        #item

        #[doc = #doc]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #type_name;

        impl ::native_pool::Task for #type_name {
            fn name(&self) -> &'static str {
                #name
            }
            fn description(&self) -> &'static str {
                #description
            }
            fn args(&self) -> ::native_pool::ArgsSchema {
                #schema
            }
            fn result(&self) -> &'static str {
                #result_ts
            }
            #message_fn
            fn prepare(&self, args: ::native_pool::Value) -> ::core::result::Result<::native_pool::Work, ::native_pool::TaskError> {
                #prepared
            }
        }
    })
}
